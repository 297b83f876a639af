/**
 * The safetensors format (huggingface/safetensors): u64 little-endian header length N, N bytes of JSON
 * `{ name: { dtype, shape, data_offsets: [begin, end] }, "__metadata__": { string: string } }`, then the
 * byte buffer, which the entries must cover exactly, without overlaps or holes.
 * Reading checks everything before allocating anything big; each defect has its own error.
 */

export type SafetensorsDtype = 'F32' | 'F16' | 'BF16';
const READABLE: Record<SafetensorsDtype, number> = { F32: 4, F16: 2, BF16: 2 };
/** Dtypes of the format we know but do not read (they are not float weights). */
const KNOWN_UNREAD = ['F64', 'F8_E4M3', 'F8_E5M2', 'I64', 'I32', 'I16', 'I8', 'U64', 'U32', 'U16', 'U8', 'BOOL'];
/** The reference implementation's limit; a bigger header is a corrupt file, not a model. */
export const MAX_HEADER_BYTES = 100_000_000;

export interface NamedFloat32 {
  name: string;
  shape: number[];
  data: Float32Array;
}

export interface SafetensorsContents {
  tensors: Map<string, { shape: number[]; dtype: SafetensorsDtype; data: Float32Array }>;
  metadata: Record<string, string>;
}

export class SafetensorsError extends Error {
  constructor(
    readonly file: string,
    detail: string,
    readonly tensor?: string,
  ) {
    super(`${file}: ${tensor === undefined ? '' : `tensor "${tensor}": `}${detail}`);
    this.name = 'SafetensorsError';
  }
}

type Entry = SafetensorsEntry;

/** One tensor of a safetensors header; begin/end are relative to the start of the data buffer. */
export interface SafetensorsEntry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  /** In header order. */
  entries: SafetensorsEntry[];
  metadata: Record<string, string>;
  /** Byte offset of the data buffer in the file (8 + header length). */
  dataStart: number;
}

/** Bytes to read from the start of a file to parse its header (after the first 8). */
export function safetensorsHeaderLength(first8: Uint8Array, fileLength: number, file = '<buffer>'): number {
  if (first8.length < 8 || fileLength < 8)
    throw new SafetensorsError(file, `truncated: ${fileLength} bytes, but a safetensors file starts with an 8-byte header length`);
  // A u64: compared and printed as a bigint, so a corrupt length above 2^53 is shown exactly.
  const length = new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true);
  if (length > BigInt(MAX_HEADER_BYTES)) throw new SafetensorsError(file, `header length ${length} exceeds the limit of ${MAX_HEADER_BYTES} bytes`);
  const headerLength = Number(length);
  if (8 + headerLength > fileLength) {
    throw new SafetensorsError(file, `header length ${headerLength} runs past the end of the file (${fileLength - 8} bytes follow the length)`);
  }
  return headerLength;
}

/**
 * Parses and checks the header of a safetensors file of `fileLength` bytes from its first bytes (`prefix` holds at
 * least 8 + header length bytes): every entry's dtype, shape and offsets, and that the entries cover the data exactly.
 */
export function parseSafetensorsHeader(prefix: Uint8Array, fileLength: number, file = '<buffer>'): SafetensorsHeader {
  const fail = (detail: string, tensor?: string): never => {
    throw new SafetensorsError(file, detail, tensor);
  };
  const headerLength = safetensorsHeaderLength(prefix, fileLength, file);
  if (8 + headerLength > prefix.length) fail(`header of ${headerLength} bytes was not read in full`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(prefix.subarray(8, 8 + headerLength)));
  } catch (error) {
    fail(`header is not valid UTF-8 JSON (${(error as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('header must be a JSON object');
  const dataStart = 8 + headerLength;
  const dataLength = fileLength - dataStart;
  const metadata: Record<string, string> = {};
  const entries: SafetensorsEntry[] = [];
  checkDtypes(header as Record<string, unknown>, fail);
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail('"__metadata__" must be an object of strings');
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`"__metadata__"."${k}" must be a string, found ${JSON.stringify(v)}`);
        metadata[k] = v as string;
      }
      continue;
    }
    entries.push(parseEntry(name, raw, dataLength, fail));
  }
  checkCoverage(entries, dataLength, fail);
  return { entries, metadata, dataStart };
}

export function decodeSafetensors(bytes: Uint8Array, file = '<buffer>'): SafetensorsContents {
  const { entries, metadata, dataStart } = parseSafetensorsHeader(bytes, bytes.length, file);
  const tensors: SafetensorsContents['tensors'] = new Map();
  for (const e of entries) {
    tensors.set(e.name, { shape: e.shape, dtype: e.dtype, data: toFloat32(bytes.subarray(dataStart + e.begin, dataStart + e.end), e.dtype) });
  }
  return { tensors, metadata };
}

/** Several tensors of unreadable dtypes are reported together (one alone gets parseEntry's own message). */
function checkDtypes(header: Record<string, unknown>, fail: (d: string, t?: string) => never): void {
  const bad: string[] = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__' || typeof raw !== 'object' || raw === null) continue;
    const dtype = (raw as Record<string, unknown>).dtype;
    if (typeof dtype === 'string' && !(dtype in READABLE)) bad.push(`"${name}" ${JSON.stringify(dtype)}`);
  }
  if (bad.length > 1) fail(`${bad.length} tensors have dtypes rankwise does not read: ${bad.join(', ')}; readable: ${Object.keys(READABLE).join(', ')}`);
}

function parseEntry(name: string, raw: unknown, dataLength: number, fail: (d: string, t?: string) => never): Entry {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail('entry must be an object with dtype, shape, data_offsets', name);
  const { dtype, shape, data_offsets: offsets, ...rest } = raw as Record<string, unknown>;
  const extra = Object.keys(rest);
  if (extra.length > 0) fail(`unknown entry keys ${extra.join(', ')}; allowed: dtype, shape, data_offsets`, name);
  if (typeof dtype !== 'string') fail(`dtype must be a string, found ${JSON.stringify(dtype)}`, name);
  const d = dtype as string;
  if (!(d in READABLE)) {
    const readable = Object.keys(READABLE).join(', ');
    if (KNOWN_UNREAD.includes(d)) fail(`dtype ${d} is not a float weight type rankwise reads; readable: ${readable}`, name);
    fail(`unknown dtype ${JSON.stringify(d)}; readable: ${readable}`, name);
  }
  const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
  if (!Array.isArray(shape) || !shape.every(isCount)) fail(`shape must be an array of non-negative integers, found ${JSON.stringify(shape)}`, name);
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount)) {
    fail(`data_offsets must be [begin, end] non-negative integers, found ${JSON.stringify(offsets)}`, name);
  }
  const [begin, end] = offsets as number[];
  if (begin > end) fail(`data_offsets [${begin}, ${end}] have begin after end`, name);
  if (end > dataLength) fail(`data_offsets [${begin}, ${end}] out of range: the data buffer has ${dataLength} bytes`, name);
  const dims = shape as number[];
  const numel = dims.reduce((a, b) => a * b, 1);
  const need = numel * READABLE[d as SafetensorsDtype];
  if (need !== end - begin) {
    fail(`shape [${dims.join(', ')}] of ${d} needs ${need} bytes but data_offsets [${begin}, ${end}] hold ${end - begin}`, name);
  }
  return { name, dtype: d as SafetensorsDtype, shape: dims, begin, end };
}

function checkCoverage(entries: Entry[], dataLength: number, fail: (d: string, t?: string) => never): void {
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  let previous: Entry | undefined;
  for (const e of sorted) {
    if (e.begin < cursor && previous) {
      fail(`data_offsets [${e.begin}, ${e.end}] overlap tensor "${previous.name}" [${previous.begin}, ${previous.end}]`, e.name);
    }
    if (e.begin > cursor) fail(`bytes [${cursor}, ${e.begin}) of the data buffer belong to no tensor (a hole before this tensor)`, e.name);
    cursor = e.end;
    previous = e;
  }
  if (cursor !== dataLength) fail(`the data buffer has ${dataLength} bytes but the tensors cover only ${cursor}`);
}

/** Raw little-endian bytes of one tensor → float32 values (a fresh, aligned array). */
export function toFloat32(raw: Uint8Array, dtype: SafetensorsDtype): Float32Array {
  const copy = new Uint8Array(raw); // an aligned copy (Buffer#slice would share memory)
  if (dtype === 'F32') return new Float32Array(copy.buffer, 0, copy.length / 4);
  const halves = new Uint16Array(copy.buffer, 0, copy.length / 2);
  const out = new Float32Array(halves.length);
  if (dtype === 'BF16') {
    const bits = new Uint32Array(out.buffer);
    for (let i = 0; i < halves.length; i++) bits[i] = halves[i] << 16;
    return out;
  }
  for (let i = 0; i < halves.length; i++) out[i] = halfToFloat(halves[i]);
  return out;
}

/** IEEE 754 binary16 → number (subnormals, infinities and NaN included). */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 31) return fraction === 0 ? sign * Infinity : NaN;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/** Writes F32 tensors in the given order; the header is space-padded to 8-byte alignment as the reference does. */
export function encodeSafetensors(tensors: readonly NamedFloat32[], metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  const names = new Set<string>();
  for (const t of tensors) {
    if (names.has(t.name) || t.name === '__metadata__') throw new Error(`tensor name "${t.name}" is duplicated or reserved`);
    names.add(t.name);
    const numel = t.shape.reduce((a, b) => a * b, 1);
    if (numel !== t.data.length) throw new Error(`tensor "${t.name}": shape [${t.shape.join(', ')}] has ${numel} values, data has ${t.data.length}`);
    header[t.name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + 4 * numel] };
    offset += 4 * numel;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerBytes = new Uint8Array(json.length + ((8 - (json.length % 8)) % 8)).fill(0x20); // pad with spaces
  headerBytes.set(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let cursor = 8 + headerBytes.length;
  for (const t of tensors) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), cursor);
    cursor += t.data.byteLength;
  }
  return out;
}
