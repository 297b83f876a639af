/**
 * Reads a GGUF file's header (metadata and tensor table) without touching tensor data, and single tensors by name
 * as float32. Every structural defect is an error naming the file and the field (`/header/version`,
 * `/metadata/<key>`, `/tensors/<name>`), what was found and what is allowed.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { GGUF_DEFAULT_ALIGNMENT, GGUF_MAGIC, GgufValueType, ggmlTypeName, type GgmlType } from './constants.js';
import { dequantize, tensorBytes } from './quants.js';

export type GgufScalar = number | bigint | string | boolean;
/** A metadata value: its GGUF type (and for arrays the item type) and the value (arrays as JS arrays). */
export interface GgufValue {
  type: GgufValueType;
  itemType?: GgufValueType;
  value: GgufScalar | GgufScalar[];
}

export interface GgufTensorInfo {
  name: string;
  /** GGUF dimensions, first fastest (ggml's ne): a PyTorch [out, in] weight is [in, out] here. */
  dims: number[];
  type: GgmlType;
  /** Absolute byte offset of the data in the file. */
  offset: number;
  count: number;
}

export interface GgufHeader {
  file: string;
  version: number;
  metadata: Map<string, GgufValue>;
  tensors: GgufTensorInfo[];
  alignment: number;
  dataOffset: number;
  fileSize: number;
}

class NeedMore extends Error {}

/** A synchronous cursor over the first bytes of the file; running past them asks for a larger read. */
class Cursor {
  pos = 0;
  private readonly view: DataView;
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });

  constructor(
    private readonly bytes: Uint8Array,
    private readonly complete: boolean,
    private readonly fail: (field: string, found: string, allowed: string) => never,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private need(n: number, field: string): void {
    if (this.pos + n <= this.bytes.byteLength) return;
    if (this.complete) this.fail(field, `the file ends at byte ${this.bytes.byteLength}`, `${n} more bytes at byte ${this.pos}`);
    throw new NeedMore();
  }

  u8(field: string): number {
    this.need(1, field);
    return this.view.getUint8(this.pos++);
  }
  u32(field: string): number {
    this.need(4, field);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }
  u64(field: string): number {
    this.need(8, field);
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(field, v.toString(), 'a count below 2^53');
    return Number(v);
  }
  string(field: string): string {
    const length = this.u64(field);
    if (this.complete && length > this.bytes.byteLength - this.pos)
      this.fail(field, `a string of ${length} bytes`, `at most the ${this.bytes.byteLength - this.pos} bytes left`);
    this.need(length, field);
    try {
      return this.decoder.decode(this.bytes.subarray(this.pos, (this.pos += length)));
    } catch {
      return this.fail(field, 'bytes that are not UTF-8', 'a UTF-8 string');
    }
  }

  scalar(type: GgufValueType, field: string): GgufScalar {
    const v = this.view;
    const take = (n: number): number => {
      this.need(n, field);
      const at = this.pos;
      this.pos += n;
      return at;
    };
    switch (type) {
      case GgufValueType.UINT8:
        return v.getUint8(take(1));
      case GgufValueType.INT8:
        return v.getInt8(take(1));
      case GgufValueType.UINT16:
        return v.getUint16(take(2), true);
      case GgufValueType.INT16:
        return v.getInt16(take(2), true);
      case GgufValueType.UINT32:
        return v.getUint32(take(4), true);
      case GgufValueType.INT32:
        return v.getInt32(take(4), true);
      case GgufValueType.FLOAT32:
        return v.getFloat32(take(4), true);
      case GgufValueType.FLOAT64:
        return v.getFloat64(take(8), true);
      case GgufValueType.BOOL: {
        const b = v.getUint8(take(1));
        if (b > 1) this.fail(field, `bool byte ${b}`, '0 or 1');
        return b === 1;
      }
      case GgufValueType.UINT64: {
        const x = v.getBigUint64(take(8), true);
        return x <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(x) : x;
      }
      case GgufValueType.INT64: {
        const x = v.getBigInt64(take(8), true);
        return x <= BigInt(Number.MAX_SAFE_INTEGER) && x >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(x) : x;
      }
      case GgufValueType.STRING:
        return this.string(field);
      default:
        return this.fail(field, `value type ${type}`, 'a GGUF value type 0–12');
    }
  }

  value(field: string): GgufValue {
    const type = this.u32(field) as GgufValueType;
    if (type !== GgufValueType.ARRAY) return { type, value: this.scalar(type, field) };
    const itemType = this.u32(field) as GgufValueType;
    if (itemType === GgufValueType.ARRAY) this.fail(field, 'an array of arrays', 'an array of scalars or strings');
    const length = this.u64(field);
    if (this.complete && length > this.bytes.byteLength - this.pos)
      this.fail(field, `an array of ${length} items`, `at most the ${this.bytes.byteLength - this.pos} bytes left`);
    const items: GgufScalar[] = new Array(length);
    for (let i = 0; i < length; i++) items[i] = this.scalar(itemType, field);
    return { type, itemType, value: items };
  }
}

function parse(file: string, bytes: Uint8Array, complete: boolean, fileSize: number): GgufHeader {
  const fail = (field: string, found: string, allowed: string): never => {
    throw new Error(`${file}: ${field}: found ${found}, allowed: ${allowed}`);
  };
  const c = new Cursor(bytes, complete, fail);
  const magic = c.u32('/header/magic');
  if (magic !== GGUF_MAGIC) fail('/header/magic', JSON.stringify(Buffer.from(bytes.subarray(0, 4)).toString('latin1')), '"GGUF" (not a GGUF file)');
  const version = c.u32('/header/version');
  if (version !== 2 && version !== 3) fail('/header/version', String(version), '2 or 3');
  const tensorCount = c.u64('/header/tensor_count');
  const kvCount = c.u64('/header/metadata_kv_count');
  // Each entry takes at least 8 bytes: larger counts cannot fit in the file.
  if (tensorCount > fileSize / 8) fail('/header/tensor_count', String(tensorCount), `at most ${Math.floor(fileSize / 8)} for a file of ${fileSize} bytes`);
  if (kvCount > fileSize / 8) fail('/header/metadata_kv_count', String(kvCount), `at most ${Math.floor(fileSize / 8)} for a file of ${fileSize} bytes`);
  const metadata = new Map<string, GgufValue>();
  for (let i = 0; i < kvCount; i++) {
    const key = c.string(`/metadata/${i}/key`);
    if (metadata.has(key)) fail(`/metadata/${key}`, 'a second value', 'each key once');
    metadata.set(key, c.value(`/metadata/${key}`));
  }
  let alignment = GGUF_DEFAULT_ALIGNMENT;
  const align = metadata.get('general.alignment');
  if (align !== undefined) {
    const a = align.value;
    if (align.type !== GgufValueType.UINT32 || typeof a !== 'number' || a === 0 || (a & (a - 1)) !== 0)
      fail('/metadata/general.alignment', JSON.stringify(String(a)), 'a uint32 power of two');
    alignment = a as number;
  }
  const infos: Array<Omit<GgufTensorInfo, 'offset'> & { relative: number }> = [];
  const names = new Set<string>();
  for (let i = 0; i < tensorCount; i++) {
    const name = c.string(`/tensors/${i}/name`);
    const at = `/tensors/${name}`;
    if (names.has(name)) fail(at, 'a second tensor of this name', 'each name once');
    names.add(name);
    const nDims = c.u32(`${at}/n_dims`);
    if (nDims < 1 || nDims > 4) fail(`${at}/n_dims`, String(nDims), '1 to 4');
    const dims: number[] = [];
    for (let d = 0; d < nDims; d++) {
      const n = c.u64(`${at}/dims`);
      if (n < 1) fail(`${at}/dims`, String(n), 'positive sizes');
      dims.push(n);
    }
    const type = c.u32(`${at}/type`) as GgmlType;
    const relative = c.u64(`${at}/offset`);
    if (relative % alignment !== 0) fail(`${at}/offset`, String(relative), `a multiple of the alignment ${alignment}`);
    infos.push({ name, dims, type, count: dims.reduce((a, b) => a * b, 1), relative });
  }
  const dataOffset = Math.ceil(c.pos / alignment) * alignment;
  const tensors = infos.map(({ relative, ...info }): GgufTensorInfo => ({ ...info, offset: dataOffset + relative }));
  return { file, version, metadata, tensors, alignment, dataOffset, fileSize };
}

/** Reads and checks the header of a GGUF file (reads as much of the file as the header takes, no tensor data). */
export async function readGgufHeader(file: string): Promise<GgufHeader> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    for (let length = Math.min(size, 1 << 22); ; length = Math.min(size, length * 4)) {
      const bytes = new Uint8Array(length);
      await handle.read(bytes, 0, length, 0);
      try {
        return parse(file, bytes, length === size, size);
      } catch (error) {
        if (!(error instanceof NeedMore)) throw error;
      }
    }
  } finally {
    await handle.close();
  }
}

/**
 * Checks each tensor's type is one rankwise reads and its data lies inside the file; one message per defect
 * (`<file>: /tensors/<name>/type: found Q5_K, allowed: …`).
 */
export function tensorIssues(header: GgufHeader): string[] {
  const issues: string[] = [];
  for (const t of header.tensors) {
    const at = `${header.file}: /tensors/${t.name}`;
    let bytes: number;
    try {
      bytes = tensorBytes(t.type, t.count);
    } catch (error) {
      issues.push(`${at}/type: found ${ggmlTypeName(t.type)} (${(error as Error).message}), allowed: F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K`);
      continue;
    }
    if (t.offset + bytes > header.fileSize)
      issues.push(`${at}/offset: data ends at byte ${t.offset + bytes}, past the end of the file (${header.fileSize} bytes)`);
  }
  return issues;
}

/** Opens a GGUF file for reading tensors by name (dequantized to float32). */
export class GgufReader {
  private constructor(
    readonly header: GgufHeader,
    private readonly handle: FileHandle,
  ) {}

  static async open(file: string): Promise<GgufReader> {
    const header = await readGgufHeader(file);
    const issues = tensorIssues(header);
    if (issues.length > 0) throw new Error(issues.join('\n'));
    return new GgufReader(header, await open(file, 'r'));
  }

  tensor(name: string): GgufTensorInfo {
    const info = this.header.tensors.find((t) => t.name === name);
    if (!info) throw new Error(`${this.header.file}: no tensor "${name}"`);
    return info;
  }

  async read(name: string): Promise<Float32Array> {
    const info = this.tensor(name);
    const bytes = new Uint8Array(tensorBytes(info.type, info.count));
    await this.handle.read(bytes, 0, bytes.byteLength, info.offset);
    return dequantize(info.type, bytes, info.count);
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

/** A metadata value as a plain JS value, or undefined. */
export function metadataValue(header: GgufHeader, key: string): GgufScalar | GgufScalar[] | undefined {
  return header.metadata.get(key)?.value;
}
