/**
 * Bit streams for the history encodings: bits are packed most significant first, so a
 * stream reads back in the order it was written. Fields are at most 32 bits per call;
 * wider ones (64-bit floats, u64 deltas) are written as 32-bit pieces.
 */

export class BitWriter {
  private buffer: Uint8Array;
  private bits = 0;

  constructor(capacityBytes = 16) {
    this.buffer = new Uint8Array(capacityBytes);
  }

  /** Bits written so far. */
  get length(): number {
    return this.bits;
  }

  /** Bytes held, including growth room: what the open stream costs in memory. */
  get capacity(): number {
    return this.buffer.length;
  }

  /** Writes the low `n` (0…32) bits of `value`. */
  write(value: number, n: number): void {
    if (n === 0) return;
    const end = (this.bits + n + 7) >>> 3;
    if (end > this.buffer.length) this.grow(end);
    let left = n;
    while (left > 0) {
      const at = this.bits >>> 3;
      const free = 8 - (this.bits & 7);
      const take = free < left ? free : left;
      const piece = (value >>> (left - take)) & ((1 << take) - 1);
      this.buffer[at]! |= piece << (free - take);
      this.bits += take;
      left -= take;
    }
  }

  /** Writes the low `n` (0…64) bits of the 64-bit value `hi:lo`. */
  write64(hi: number, lo: number, n: number): void {
    if (n > 32) {
      this.write(hi, n - 32);
      this.write(lo, 32);
    } else {
      this.write(lo, n);
    }
  }

  /** Writes the low `n` bits of a non-negative bigint, any width. */
  writeBig(value: bigint, n: number): void {
    for (let shift = n - (n % 32 || 32); shift >= 0; shift -= 32) {
      const width = shift + 32 > n ? n - shift : 32;
      this.write(Number((value >> BigInt(shift)) & 0xffffffffn), width);
    }
  }

  writeBytes(bytes: Uint8Array): void {
    for (const byte of bytes) this.write(byte, 8);
  }

  /** Forgets what was written, keeping the buffer (and its size) for the next stream. */
  reset(): void {
    this.buffer.fill(0, 0, (this.bits + 7) >>> 3);
    this.bits = 0;
  }

  /** The bytes written so far, without copying (valid until the next write). */
  view(): Uint8Array {
    return this.buffer.subarray(0, (this.bits + 7) >>> 3);
  }

  private grow(minimum: number): void {
    this.buffer = grown(this.buffer, minimum);
  }
}

/**
 * A copy of a (non-empty) typed array with room for at least `minimum` elements, its length
 * doubled as often as that takes, so that appending one element at a time stays cheap.
 */
export function grown<T extends Uint8Array | Float64Array>(array: T, minimum: number): T {
  let size = array.length * 2;
  while (size < minimum) size *= 2;
  const bigger = new (array.constructor as new (length: number) => T)(size);
  bigger.set(array);
  return bigger;
}

export class BitReader {
  private bits: number;

  constructor(
    private readonly buffer: Uint8Array,
    startBit = 0,
  ) {
    this.bits = startBit;
  }

  /** Reads `n` (0…32) bits as an unsigned number. */
  read(n: number): number {
    if (this.bits + n > this.buffer.length * 8) throw new RangeError('history block is truncated: read past its end');
    let result = 0;
    let left = n;
    while (left > 0) {
      const at = this.bits >>> 3;
      const available = 8 - (this.bits & 7);
      const take = available < left ? available : left;
      const piece = (this.buffer[at]! >>> (available - take)) & ((1 << take) - 1);
      result = ((result << take) | piece) >>> 0;
      this.bits += take;
      left -= take;
    }
    return result;
  }

  readBit(): number {
    return this.read(1);
  }

  readBig(n: number): bigint {
    let value = 0n;
    for (let left = n; left > 0; ) {
      const width = left % 32 || 32;
      value = (value << BigInt(width)) | BigInt(this.read(width));
      left -= width;
    }
    return value;
  }

  readBytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.read(8);
    return out;
  }
}
