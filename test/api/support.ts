import { connect } from 'node:net';

/** An HTTP exchange as it went over the wire. */
export interface RawResponse {
  version: string;
  status: number;
  headers: Map<string, string>;
  body: string;
}

export interface RawRequest {
  method?: string;
  /** Path and query exactly as sent (no re-encoding). */
  target: string;
  headers?: Record<string, string>;
  body?: string;
  /** `1.0` to send an HTTP/1.0 request line. */
  httpVersion?: string;
}

/**
 * One request over a fresh TCP connection, written byte for byte, so tests can send what real
 * clients send (unusual verbs, HTTP/1.0, exact URLs, preflights) and see exactly what comes back.
 */
export function rawRequest(baseUrl: string, request: RawRequest): Promise<RawResponse> {
  const { hostname, port } = new URL(baseUrl);
  const method = request.method ?? 'GET';
  const body = request.body === undefined ? undefined : Buffer.from(request.body);
  let head = `${method} ${request.target} HTTP/${request.httpVersion ?? '1.1'}\r\nHost: ${hostname}:${port}\r\nConnection: close\r\n`;
  for (const [name, value] of Object.entries(request.headers ?? {})) head += `${name}: ${value}\r\n`;
  if (body) head += `Content-Length: ${body.length}\r\n`;
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    const finish = (): void => {
      socket.destroy();
      try {
        resolve(parseResponse(Buffer.concat(chunks).toString('utf8'), method === 'HEAD'));
      } catch (error) {
        reject(error);
      }
    };
    socket.on('data', (chunk) => {
      chunks.push(chunk);
      // a connection the server keeps open (an Upgrade request) ends when the body is complete
      if (complete(Buffer.concat(chunks).toString('utf8'), method === 'HEAD')) finish();
    });
    socket.on('error', reject);
    socket.on('end', finish);
    socket.write(`${head}\r\n`);
    if (body) socket.write(body);
  });
}

/** Whether a response has arrived whole: headers, then Content-Length bytes (or none for HEAD). */
function complete(text: string, head: boolean): boolean {
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return false;
  const length = /\r\ncontent-length: *(\d+)/i.exec(text.slice(0, end))?.[1];
  if (head) return true;
  return length !== undefined && Buffer.byteLength(text.slice(end + 4)) >= Number(length);
}

function parseResponse(text: string, head: boolean, framed = true): RawResponse {
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) throw new Error(`incomplete HTTP response: ${JSON.stringify(text.slice(0, 200))}`);
  const [statusLine = '', ...lines] = text.slice(0, end).split('\r\n');
  const m = /^HTTP\/(\d\.\d) (\d{3})/.exec(statusLine);
  if (!m) throw new Error(`bad status line ${JSON.stringify(statusLine)}`);
  const headers = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  let body = head ? '' : text.slice(end + 4);
  if (framed && headers.get('transfer-encoding')?.toLowerCase() === 'chunked') body = unchunk(body);
  return { version: m[1]!, status: Number(m[2]), headers, body };
}

function unchunk(text: string): string {
  let out = '';
  let at = 0;
  for (;;) {
    const eol = text.indexOf('\r\n', at);
    const size = parseInt(text.slice(at, eol), 16);
    if (!size) return out;
    out += text.slice(eol + 2, eol + 2 + size);
    at = eol + 2 + size + 2;
  }
}

/** Media type of a Content-Type header, without parameters (`application/json`). */
export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim();
}

/** A captured pmproxy exchange (test/fixtures/golden/*.txt): the curl command and the raw reply. */
export interface Golden {
  file: string;
  request: RawRequest;
  response: RawResponse;
  /** The reply body was cut short when captured (the whole PMNS). */
  truncated: boolean;
}

/**
 * Reads a golden file: line 2 is the curl command (`-X`, `-H`, `-I`, `--http1.0`,
 * `--data-binary` with `\n` for newlines, then the quoted URL), then the raw response.
 */
export function parseGolden(file: string, text: string): Golden {
  const lines = text.split('\n');
  const curl = lines[1] ?? '';
  const url = /'(http:\/\/[^']+)'/.exec(curl)?.[1];
  if (!url) throw new Error(`${file}: no quoted URL in ${curl}`);
  const target = url.slice(url.indexOf('/', 'http://'.length));
  const options = curl.slice(0, curl.indexOf(`'${url}'`));
  const request: RawRequest = { target, headers: {} };
  if (/ -I /.test(options)) request.method = 'HEAD';
  const method = / -X (\w+)/.exec(options)?.[1];
  if (method) request.method = method;
  if (options.includes('--http1.0')) request.httpVersion = '1.0';
  const data = / --data-binary (.*) $/.exec(options)?.[1];
  if (data !== undefined) request.body = data.replace(/\\n/g, '\n');
  // -H values are unquoted in the capture: each runs to the next option
  for (const m of options.matchAll(/ -H ([A-Za-z-]+): (.*?)(?= -[HXI] | --| $)/g)) request.headers![m[1]!] = m[2]!;
  const rest = lines.slice(3).join('\n');
  const responseText = rest.replace(/\n### \.\.\. truncated.*$/s, '');
  return {
    file,
    request,
    // curl shows chunk framing only with --raw
    response: parseResponse(responseText.includes('\r\n\r\n') ? responseText : `${responseText}\r\n\r\n`, request.method === 'HEAD', options.includes('--raw')),
    truncated: /TRUNCATED/.test(curl),
  };
}

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/**
 * Differences in JSON structure between ours and pmproxy's: object keys and their order,
 * value types, recursively; values themselves aside. Array elements are compared with the
 * golden element of the same shape (metric lists mix metrics and unknown-name entries), and
 * `labels` objects only need to be objects of scalars carrying the context labels (which
 * further labels a PMDA adds is metadata, not structure).
 */
export function structureDiff(ours: JsonValue, golden: JsonValue, path = '$'): string[] {
  const kind = (v: JsonValue): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
  if (kind(ours) !== kind(golden)) {
    // an instance id is null for a singular metric and a number otherwise
    if (path.endsWith('.instance') && ['null', 'number'].includes(kind(ours)) && ['null', 'number'].includes(kind(golden))) return [];
    return [`${path}: ${kind(ours)} where pmproxy has ${kind(golden)}`];
  }
  if (Array.isArray(ours) && Array.isArray(golden)) {
    const diffs: string[] = [];
    ours.forEach((element, i) => {
      // the golden element of the same metric (by name), else at the same place, else of the same shape
      const candidates = golden.filter((g) => sameKeys(element, g));
      const named = candidates.find((g) => nameOf(g) !== undefined && nameOf(g) === nameOf(element));
      const against = named ?? (candidates.includes(golden[i]!) ? golden[i] : candidates[0]) ?? golden[0];
      if (against !== undefined) diffs.push(...structureDiff(element, against, `${path}[${i}]`));
    });
    return diffs;
  }
  if (kind(ours) === 'object') {
    const o = ours as Record<string, JsonValue>;
    const g = golden as Record<string, JsonValue>;
    if (path.endsWith('.labels')) {
      const missing = ['domainname', 'hostname', 'machineid'].filter((k) => !(k in o));
      const nested = Object.entries(o).filter(([, v]) => v !== null && typeof v === 'object');
      return [...missing.map((k) => `${path}: no ${k} label`), ...nested.map(([k]) => `${path}.${k}: not a scalar`)];
    }
    const ok = Object.keys(o).join(',');
    const gk = Object.keys(g).join(',');
    if (ok !== gk) return [`${path}: keys ${ok} where pmproxy has ${gk}`];
    return Object.keys(g).flatMap((k) => structureDiff(o[k]!, g[k]!, `${path}.${k}`));
  }
  return [];
}

function nameOf(v: JsonValue | undefined): JsonValue | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? v.name : undefined;
}

function sameKeys(a: JsonValue, b: JsonValue): boolean {
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object' || Array.isArray(a) || Array.isArray(b)) return true;
  return Object.keys(a).join(',') === Object.keys(b).join(',');
}

/**
 * The metric expressions of grafana-pcp's "PCP Vector Checklist" dashboards (CLIENTS.md 2.8).
 * grafana-pcp registers those that are not plain metric names as derived metrics.
 */
export const CHECKLIST = [
  '1 - rate(kernel.percpu.cpu.idle)',
  'mem.util.available / mem.physmem',
  'rate(network.interface.in.bytes) / network.interface.baudrate',
  'rate(network.interface.out.bytes) / network.interface.baudrate',
  'disk.dev.avactive',
  'kernel.percpu.cpu.user',
  'kernel.percpu.cpu.sys',
  'rate(hotproc.psinfo.utime)+rate(hotproc.psinfo.stime)',
  'hotproc.psinfo.utime',
  'hotproc.psinfo.stime',
  'mem.util.free / mem.physmem',
  'mem.numa.util.free / mem.numa.util.total',
  '(rate(mem.vmstat.pgsteal_direct)+rate(mem.vmstat.pgsteal_kswapd)) / (rate(mem.vmstat.pgscan_direct)+rate(mem.vmstat.pgscan_kswapd))',
  'mem.vmstat.thp_fault_alloc',
  'mem.vmstat.thp_split_page',
  'swap.pagesout',
  'network.interface.in.drops',
  'network.interface.out.errors',
  'network.softnet.dropped',
  'network.softnet.time_squeeze',
  'delta(disk.dev.total_bytes)/delta(disk.dev.total)',
  'disk.dev.total',
];

/** grafana-pcp's test for a plain metric name; any other expression becomes a derived metric. */
export const PLAIN_METRIC = /^[a-zA-Z][a-zA-Z0-9_]*(\.[a-zA-Z][a-zA-Z0-9_]+)*$/;
