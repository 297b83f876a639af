/**
 * Writes a GGUF v3 file as gguf-py's GGUFWriter does: header, metadata, tensor table, then each tensor's data at an
 * offset aligned to 32 bytes. Tensor values are asked for one at a time (streamed), so a model never sits in memory
 * twice.
 */
import { open } from 'node:fs/promises';
import { GGUF_DEFAULT_ALIGNMENT, GGUF_MAGIC, GGUF_VERSION, GgufValueType, type GgmlType } from './constants.js';
import { quantize, tensorBytes } from './quants.js';
import type { GgufScalar, GgufValue } from './reader.js';

export interface GgufTensorToWrite {
  name: string;
  /** GGUF dimensions, first fastest (a PyTorch [out, in] weight is [in, out]). */
  dims: number[];
  type: GgmlType;
  /** The values, row-major in PyTorch order (= GGUF order read from its last dimension). */
  values(): Promise<Float32Array>;
}

/** Metadata helpers: typed values as gguf-py's add_* methods write them. */
export const gguf = {
  string: (value: string): GgufValue => ({ type: GgufValueType.STRING, value }),
  u32: (value: number): GgufValue => ({ type: GgufValueType.UINT32, value }),
  i32: (value: number): GgufValue => ({ type: GgufValueType.INT32, value }),
  f32: (value: number): GgufValue => ({ type: GgufValueType.FLOAT32, value }),
  bool: (value: boolean): GgufValue => ({ type: GgufValueType.BOOL, value }),
  strings: (value: string[]): GgufValue => ({ type: GgufValueType.ARRAY, itemType: GgufValueType.STRING, value }),
  i32s: (value: number[]): GgufValue => ({ type: GgufValueType.ARRAY, itemType: GgufValueType.INT32, value }),
  f32s: (value: number[]): GgufValue => ({ type: GgufValueType.ARRAY, itemType: GgufValueType.FLOAT32, value }),
};

class ByteSink {
  private chunks: Uint8Array[] = [];
  length = 0;
  private readonly encoder = new TextEncoder();

  bytes(b: Uint8Array): void {
    this.chunks.push(b);
    this.length += b.byteLength;
  }
  private number(n: number, write: (v: DataView) => void): void {
    const b = new Uint8Array(n);
    write(new DataView(b.buffer));
    this.bytes(b);
  }
  u32(v: number): void {
    this.number(4, (d) => d.setUint32(0, v, true));
  }
  u64(v: number | bigint): void {
    this.number(8, (d) => d.setBigUint64(0, BigInt(v), true));
  }
  string(s: string): void {
    const b = this.encoder.encode(s);
    this.u64(b.byteLength);
    this.bytes(b);
  }
  scalar(type: GgufValueType, v: GgufScalar): void {
    switch (type) {
      case GgufValueType.UINT8:
        return this.number(1, (d) => d.setUint8(0, v as number));
      case GgufValueType.INT8:
        return this.number(1, (d) => d.setInt8(0, v as number));
      case GgufValueType.UINT16:
        return this.number(2, (d) => d.setUint16(0, v as number, true));
      case GgufValueType.INT16:
        return this.number(2, (d) => d.setInt16(0, v as number, true));
      case GgufValueType.UINT32:
        return this.number(4, (d) => d.setUint32(0, v as number, true));
      case GgufValueType.INT32:
        return this.number(4, (d) => d.setInt32(0, v as number, true));
      case GgufValueType.FLOAT32:
        return this.number(4, (d) => d.setFloat32(0, v as number, true));
      case GgufValueType.FLOAT64:
        return this.number(8, (d) => d.setFloat64(0, v as number, true));
      case GgufValueType.BOOL:
        return this.number(1, (d) => d.setUint8(0, v ? 1 : 0));
      case GgufValueType.UINT64:
        return this.u64(v as number | bigint);
      case GgufValueType.INT64:
        return this.number(8, (d) => d.setBigInt64(0, BigInt(v as number), true));
      case GgufValueType.STRING:
        return this.string(v as string);
      default:
        throw new Error(`cannot write GGUF value type ${type}`);
    }
  }
  value(v: GgufValue): void {
    this.u32(v.type);
    if (v.type !== GgufValueType.ARRAY) return this.scalar(v.type, v.value as GgufScalar);
    const items = v.value as GgufScalar[];
    this.u32(v.itemType!);
    this.u64(items.length);
    for (const item of items) this.scalar(v.itemType!, item);
  }
  concat(): Uint8Array {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.byteLength;
    }
    return out;
  }
}

/** Writes `metadata` (in insertion order) and `tensors` (in order) to `file`. */
export async function writeGguf(file: string, metadata: Map<string, GgufValue>, tensors: readonly GgufTensorToWrite[]): Promise<void> {
  const alignment = GGUF_DEFAULT_ALIGNMENT;
  const pad = (n: number): number => Math.ceil(n / alignment) * alignment;
  const header = new ByteSink();
  header.u32(GGUF_MAGIC);
  header.u32(GGUF_VERSION);
  header.u64(tensors.length);
  header.u64(metadata.size);
  for (const [key, value] of metadata) {
    header.string(key);
    header.value(value);
  }
  let offset = 0;
  for (const t of tensors) {
    header.string(t.name);
    header.u32(t.dims.length);
    for (const d of t.dims) header.u64(d);
    header.u32(t.type);
    header.u64(offset);
    offset = pad(
      offset +
        tensorBytes(
          t.type,
          t.dims.reduce((a, b) => a * b, 1),
        ),
    );
  }
  const handle = await open(file, 'w');
  try {
    const head = header.concat();
    await handle.write(head);
    let position = head.byteLength;
    const skip = async (to: number): Promise<void> => {
      if (to > position) await handle.write(new Uint8Array(to - position));
      position = to;
    };
    await skip(pad(position));
    const dataStart = position;
    let relative = 0;
    for (const t of tensors) {
      const count = t.dims.reduce((a, b) => a * b, 1);
      const values = await t.values();
      if (values.length !== count)
        throw new Error(`GGUF writer: tensor "${t.name}" has ${values.length} values, its dims [${t.dims.join(', ')}] need ${count}`);
      const bytes = quantize(t.type, values);
      await skip(dataStart + relative);
      await handle.write(bytes);
      position += bytes.byteLength;
      relative = pad(relative + bytes.byteLength);
    }
    await skip(dataStart + relative);
  } finally {
    await handle.close();
  }
}
