import type { Value } from '../metrics/types.js';
import { BitReader, BitWriter } from './bits.js';

/**
 * Gorilla-style encodings of one series' consecutive values (Pelkonen et al., "Gorilla: a fast,
 * scalable, in-memory time series database", VLDB 2015), adapted so that nothing is rounded:
 *
 * - `int`: delta-of-delta of the integer, zigzag-mapped and written with a length prefix. A
 *   steady counter costs one bit per value; u64 values stay bigint, so a counter near 2^64 and
 *   a reset from 2^64-1 to 0 round-trip exactly.
 * - `float`: XOR with the previous float64's bit pattern, writing only the bits that differ
 *   (leading/trailing zero window). An unchanged value costs one bit; NaN payloads and -0 survive.
 * - `text`: one bit per value, plus the UTF-8 bytes only when the string changed.
 *
 * A run may skip samples where its series had no value (a collector that overran, an instance
 * missing for a moment): an escape code and a count, after which encoding continues from the
 * last value, so a short gap does not cost a fresh start.
 */
export type Codec = 'int' | 'float' | 'text';

/** Number-typed integers beyond this use `float`: zigzag of their delta-of-delta must stay a safe integer. */
const NUMBER_INT_LIMIT = 2 ** 49;

export function codecFor(value: Value): Codec {
  if (typeof value === 'bigint') return 'int';
  if (typeof value === 'string') return 'text';
  return isSmallInteger(value) ? 'int' : 'float';
}

const isSmallInteger = (n: number): boolean => Number.isInteger(n) && Math.abs(n) <= NUMBER_INT_LIMIT;

export interface ValueEncoder {
  readonly codec: Codec;
  readonly writer: BitWriter;
  /** Samples the run spans so far: values appended plus samples skipped. */
  readonly count: number;
  /** Samples skipped (they decode as null). */
  readonly skipped: number;
  /** False when the value cannot continue this run (a fraction after integers): start a new run. */
  accepts(value: Value): boolean;
  append(value: Value): void;
  /** The series had no value in the next `samples` samples (not before the first value). */
  skip(samples: number): void;
  /** Empties the run to start another one of the same codec, keeping the writer's buffer. */
  reset(): void;
}

export function createEncoder(codec: Codec, writer = new BitWriter()): ValueEncoder {
  switch (codec) {
    case 'int':
      return new IntEncoder(writer);
    case 'float':
      return new FloatEncoder(writer);
    case 'text':
      return new TextEncoderRun(writer);
  }
}

/**
 * Decodes the `count` samples written by `createEncoder(codec)`, null where skipped. Integers
 * come back as bigint when `wide` (the metric is 64-bit), as numbers otherwise.
 */
export function decodeRun(codec: Codec, bytes: Uint8Array, count: number, wide: boolean): Array<Value | null> {
  const reader = new BitReader(bytes);
  switch (codec) {
    case 'int':
      return decodeInts(reader, count, wide);
    case 'float':
      return decodeFloats(reader, count);
    case 'text':
      return decodeTexts(reader, count);
  }
}

// ── integers ──────────────────────────────────────────────────────────────────────────────

/**
 * An unsigned integer with a length prefix: `0` for zero; `10` + 3-bit length for 1…8 bits;
 * `110` + 4-bit length for 9…24 bits; `111` + 7-bit length beyond (25…66). The value's top
 * bit is always 1 and is not written. Signed values go through zigzag first (0, -1, 1, -2… →
 * 0, 1, 2, 3…). `111` with length 0 is free: the integer encoding's gap escape.
 */
function writeUnsigned(writer: BitWriter, z: number): void {
  if (z === 0) {
    writer.write(0, 1);
    return;
  }
  const hi = z > 0xffffffff ? Math.floor(z / 0x100000000) : 0;
  const lo = z >>> 0;
  const bits = hi ? 64 - Math.clz32(hi) : 32 - Math.clz32(lo);
  writeLengthPrefix(writer, bits);
  writer.write64(hi, lo, bits - 1);
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function writeUnsignedBig(writer: BitWriter, z: bigint): void {
  if (z <= MAX_SAFE) {
    writeUnsigned(writer, Number(z));
    return;
  }
  let bits = 53;
  while (z >> BigInt(bits) !== 0n) bits++;
  writeLengthPrefix(writer, bits);
  writer.writeBig(z, bits - 1);
}

function writeLengthPrefix(writer: BitWriter, bits: number): void {
  if (bits <= 8) writer.write((0b10 << 3) | (bits - 1), 5);
  else if (bits <= 24) writer.write((0b110 << 4) | (bits - 9), 7);
  else writer.write((0b111 << 7) | bits, 10);
}

const INT_GAP = (0b111 << 7) | 0;

/** Reads one unsigned integer; a number when it fits 53 bits, else a bigint; -1 for the gap escape. */
function readUnsigned(reader: BitReader): number | bigint {
  if (reader.readBit() === 0) return 0;
  let bits: number;
  if (reader.readBit() === 0) bits = reader.read(3) + 1;
  else if (reader.readBit() === 0) bits = reader.read(4) + 9;
  else bits = reader.read(7);
  if (bits === 0) return -1;
  if (bits > 53) return (1n << BigInt(bits - 1)) | reader.readBig(bits - 1);
  const rest = bits - 1;
  const low = rest > 32 ? reader.read(rest - 32) * 0x100000000 + reader.read(32) : reader.read(rest);
  return 2 ** rest + low;
}

const unzigzag = (z: number): number => (z % 2 === 0 ? z / 2 : -(z + 1) / 2);
const unzigzagBig = (z: bigint): bigint => ((z & 1n) === 0n ? z >> 1n : -((z + 1n) >> 1n));
const zigzag = (n: number): number => (n >= 0 ? n * 2 : -n * 2 - 1);
const zigzagBig = (n: bigint): bigint => (n >= 0n ? n << 1n : ((-n) << 1n) - 1n);

const SMALL = 2 ** 31;

/** Deltas of u64 values within this are kept as numbers: exact, and no bigint held between samples. */
const DELTA_LIMIT = 2n ** 52n;
const NUMBER_DELTA_LIMIT = 2 ** 52;

class IntEncoder implements ValueEncoder {
  readonly codec = 'int';
  count = 0;
  skipped = 0;
  private previous: number | bigint = 0;
  /** The previous delta; a number unless a u64 series jumped by 2^52 or more. */
  private delta: number | bigint = 0;

  constructor(readonly writer: BitWriter) {}

  reset(): void {
    this.writer.reset();
    this.count = 0;
    this.skipped = 0;
    this.previous = 0;
    this.delta = 0;
  }

  accepts(value: Value): boolean {
    if (this.count === 0) return typeof value === 'bigint' || (typeof value === 'number' && isSmallInteger(value));
    return typeof value === typeof this.previous && (typeof value !== 'number' || isSmallInteger(value));
  }

  append(value: Value): void {
    if (typeof value === 'bigint') this.appendBig(value);
    else this.appendNumber(value as number);
    this.count++;
  }

  skip(samples: number): void {
    this.writer.write(INT_GAP, 10);
    writeUnsigned(this.writer, samples - 1);
    this.count += samples;
    this.skipped += samples;
  }

  private appendNumber(value: number): void {
    if (this.count === 0) {
      writeUnsigned(this.writer, zigzag(value));
    } else {
      const delta = value - (this.previous as number);
      writeUnsigned(this.writer, zigzag(delta - (this.delta as number)));
      this.delta = delta;
    }
    this.previous = value;
  }

  private appendBig(value: bigint): void {
    if (this.count === 0) {
      this.delta = 0;
      writeUnsignedBig(this.writer, zigzagBig(value));
    } else {
      const previous = this.previous as bigint;
      // Counters below 2^53 are exact as doubles, and so is their difference: no bigint is made
      // per value (nor for a value that did not change, such as an unlimited cgroup's 2^63 limit).
      const small = value <= MAX_SAFE && value >= -MAX_SAFE && previous <= MAX_SAFE && previous >= -MAX_SAFE;
      const near = small ? Number(value) - Number(previous) : value === previous ? 0 : NaN;
      let delta: number | bigint;
      if (near < NUMBER_DELTA_LIMIT && near > -NUMBER_DELTA_LIMIT) {
        delta = near;
      } else {
        const big = value - previous;
        delta = big < DELTA_LIMIT && big > -DELTA_LIMIT ? Number(big) : big;
      }
      // Most delta-of-deltas are small: do them in doubles, which is much cheaper. Both deltas
      // are below 2^52 there, so their difference is exact.
      const dod = typeof delta === 'number' && typeof this.delta === 'number' ? delta - this.delta : BigInt(delta) - BigInt(this.delta);
      if (typeof dod === 'number' && dod < SMALL && dod > -SMALL) writeUnsigned(this.writer, zigzag(dod));
      else writeUnsignedBig(this.writer, zigzagBig(BigInt(dod)));
      this.delta = delta;
    }
    this.previous = value;
  }
}

function decodeInts(reader: BitReader, count: number, wide: boolean): Array<Value | null> {
  const out: Array<Value | null> = new Array(count);
  if (count === 0) return out;
  if (wide) {
    let value = toBig(readUnsigned(reader));
    let delta = 0n;
    out[0] = value;
    for (let i = 1; i < count; ) {
      const z = readUnsigned(reader);
      if (z === -1) {
        for (let gap = (readUnsigned(reader) as number) + 1; gap > 0; gap--) out[i++] = null;
        continue;
      }
      delta += toBig(z);
      value += delta;
      out[i++] = value;
    }
  } else {
    let value = unzigzag(readUnsigned(reader) as number);
    let delta = 0;
    out[0] = value;
    for (let i = 1; i < count; ) {
      const z = readUnsigned(reader) as number;
      if (z === -1) {
        for (let gap = (readUnsigned(reader) as number) + 1; gap > 0; gap--) out[i++] = null;
        continue;
      }
      delta += unzigzag(z);
      value += delta;
      out[i++] = value;
    }
  }
  return out;
}

function toBig(z: number | bigint): bigint {
  return typeof z === 'bigint' ? unzigzagBig(z) : BigInt(unzigzag(z));
}

// ── floats ────────────────────────────────────────────────────────────────────────────────

const f64 = new Float64Array(1);
const words = new Uint32Array(f64.buffer);
/** Index of the high word of a float64 in `words` (1 on little-endian hosts). */
const HI = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;
const LO = 1 - HI;

/** Trailing zero bits of a non-zero uint32. */
const ctz32 = (x: number): number => 31 - Math.clz32(x & -x);

/**
 * `11` + leading 31 + length 64 cannot occur (31 leading zeros leave at most 33 bits): it is
 * the float encoding's gap escape.
 */
const FLOAT_GAP = (0b11 << 11) | (31 << 6) | 63;

class FloatEncoder implements ValueEncoder {
  readonly codec = 'float';
  count = 0;
  skipped = 0;
  private hi = 0;
  private lo = 0;
  /** The window of the last explicitly written XOR: leading and trailing zero bits. */
  private leading = -1;
  private trailing = 0;

  constructor(readonly writer: BitWriter) {}

  reset(): void {
    this.writer.reset();
    this.count = 0;
    this.skipped = 0;
    this.hi = 0;
    this.lo = 0;
    this.leading = -1;
    this.trailing = 0;
  }

  accepts(value: Value): boolean {
    return typeof value === 'number';
  }

  append(value: Value): void {
    f64[0] = value as number;
    const hi = words[HI]!;
    const lo = words[LO]!;
    const w = this.writer;
    if (this.count++ === 0) {
      w.write64(hi, lo, 64);
    } else {
      const xh = (hi ^ this.hi) >>> 0;
      const xl = (lo ^ this.lo) >>> 0;
      if (xh === 0 && xl === 0) {
        w.write(0, 1);
      } else {
        // Five bits hold the leading count, so it is capped at 31 (the window only widens).
        const leading = Math.min(31, xh !== 0 ? Math.clz32(xh) : 32 + Math.clz32(xl));
        const trailing = xl !== 0 ? ctz32(xl) : 32 + ctz32(xh);
        if (this.leading >= 0 && leading >= this.leading && trailing >= this.trailing) {
          w.write(0b10, 2);
          writeWindow(w, xh, xl, this.leading, this.trailing);
        } else {
          const length = 64 - leading - trailing;
          w.write((0b11 << 11) | (leading << 6) | (length - 1), 13);
          writeWindow(w, xh, xl, leading, trailing);
          this.leading = leading;
          this.trailing = trailing;
        }
      }
    }
    this.hi = hi;
    this.lo = lo;
  }

  skip(samples: number): void {
    this.writer.write(FLOAT_GAP, 13);
    writeUnsigned(this.writer, samples - 1);
    this.count += samples;
    this.skipped += samples;
  }
}

/** Writes bits [trailing, 64 - leading) of `xh:xl`. */
function writeWindow(w: BitWriter, xh: number, xl: number, leading: number, trailing: number): void {
  const length = 64 - leading - trailing;
  let hi: number;
  let lo: number;
  if (trailing === 0) [hi, lo] = [xh, xl];
  else if (trailing < 32) [hi, lo] = [xh >>> trailing, ((xl >>> trailing) | (xh << (32 - trailing))) >>> 0];
  else [hi, lo] = [0, xh >>> (trailing - 32)];
  w.write64(hi, lo, length);
}

function decodeFloats(reader: BitReader, count: number): Array<Value | null> {
  const out: Array<Value | null> = new Array(count);
  if (count === 0) return out;
  let hi = reader.read(32);
  let lo = reader.read(32);
  let leading = 0;
  let trailing = 0;
  for (let i = 0; i < count; ) {
    if (i > 0 && reader.readBit() === 1) {
      if (reader.readBit() === 1) {
        const newLeading = reader.read(5);
        const length = reader.read(6) + 1;
        if (newLeading === 31 && length === 64) {
          for (let gap = (readUnsigned(reader) as number) + 1; gap > 0; gap--) out[i++] = null;
          continue;
        }
        leading = newLeading;
        trailing = 64 - leading - length;
      }
      const length = 64 - leading - trailing;
      let mh = length > 32 ? reader.read(length - 32) : 0;
      let ml = reader.read(Math.min(32, length));
      // Shift the meaningful bits back into place.
      if (trailing >= 32) [mh, ml] = [(ml << (trailing - 32)) >>> 0, 0];
      else if (trailing > 0) [mh, ml] = [((mh << trailing) | (ml >>> (32 - trailing))) >>> 0, (ml << trailing) >>> 0];
      hi = (hi ^ mh) >>> 0;
      lo = (lo ^ ml) >>> 0;
    }
    words[HI] = hi;
    words[LO] = lo;
    out[i++] = f64[0]!;
  }
  return out;
}

// ── text ──────────────────────────────────────────────────────────────────────────────────

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/** Per sample: `0` unchanged, `10` + byte length + UTF-8 bytes for a new string, `11` + count for a gap. */
class TextEncoderRun implements ValueEncoder {
  readonly codec = 'text';
  count = 0;
  skipped = 0;
  private previous: string | undefined;

  constructor(readonly writer: BitWriter) {}

  reset(): void {
    this.writer.reset();
    this.count = 0;
    this.skipped = 0;
    this.previous = undefined;
  }

  accepts(value: Value): boolean {
    return typeof value === 'string';
  }

  append(value: Value): void {
    const text = value as string;
    this.count++;
    if (text === this.previous) {
      this.writer.write(0, 1);
      return;
    }
    const bytes = utf8.encode(text);
    this.writer.write(0b10, 2);
    writeUnsigned(this.writer, bytes.length);
    this.writer.writeBytes(bytes);
    this.previous = text;
  }

  skip(samples: number): void {
    this.writer.write(0b11, 2);
    writeUnsigned(this.writer, samples - 1);
    this.count += samples;
    this.skipped += samples;
  }
}

function decodeTexts(reader: BitReader, count: number): Array<Value | null> {
  const out: Array<Value | null> = new Array(count);
  let current = '';
  for (let i = 0; i < count; ) {
    if (reader.readBit() === 1) {
      if (reader.readBit() === 1) {
        for (let gap = (readUnsigned(reader) as number) + 1; gap > 0; gap--) out[i++] = null;
        continue;
      }
      current = fromUtf8.decode(reader.readBytes(readUnsigned(reader) as number));
    }
    out[i++] = current;
  }
  return out;
}
