import { mkdir, open, stat, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { parseSafetensorsHeader, safetensorsHeaderLength, SafetensorsError, toFloat32, type SafetensorsEntry, type SafetensorsHeader } from './safetensors.js';

/**
 * A safetensors file read one tensor at a time: the header is parsed and checked on open, then each `read` pulls
 * only that tensor's bytes from disk. Loading a model this way never holds the whole file in memory.
 */
export class SafetensorsReader {
  private constructor(
    readonly file: string,
    private readonly handle: FileHandle,
    readonly header: SafetensorsHeader,
    readonly entries: Map<string, SafetensorsEntry>,
  ) {}

  static async open(file: string): Promise<SafetensorsReader> {
    let handle: FileHandle;
    try {
      handle = await open(file, 'r');
    } catch (error) {
      throw new Error(`${file}: cannot read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
    try {
      const { size } = await stat(file);
      const first8 = new Uint8Array(8);
      await handle.read(first8, 0, Math.min(8, size), 0);
      const headerLength = safetensorsHeaderLength(first8, size, file);
      const prefix = new Uint8Array(8 + headerLength);
      await handle.read(prefix, 0, prefix.length, 0);
      const header = parseSafetensorsHeader(prefix, size, file);
      return new SafetensorsReader(file, handle, header, new Map(header.entries.map((e) => [e.name, e])));
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  /** One tensor's values as float32 (F16 and BF16 widened). */
  async read(name: string): Promise<Float32Array> {
    const entry = this.entries.get(name);
    if (!entry) throw new SafetensorsError(this.file, 'no such tensor', name);
    const raw = new Uint8Array(entry.end - entry.begin);
    const { bytesRead } = await this.handle.read(raw, 0, raw.length, this.header.dataStart + entry.begin);
    if (bytesRead !== raw.length) throw new SafetensorsError(this.file, `read ${bytesRead} of ${raw.length} bytes (file changed while reading?)`, name);
    return entry.dtype === 'F32' ? new Float32Array(raw.buffer, 0, raw.length / 4) : toFloat32(raw, entry.dtype);
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}

/** A tensor to write: its shape now, its values when the writer gets to it. */
export interface PendingTensor {
  name: string;
  shape: number[];
  values(): Promise<Float32Array>;
}

/**
 * Writes F32 tensors one at a time (header first, computed from the shapes), so saving a model holds at most one
 * tensor's values outside the model. The header is space-padded to 8 bytes as the reference writer does.
 */
export async function writeSafetensorsStreaming(file: string, tensors: readonly PendingTensor[], metadata: Record<string, string> = {}): Promise<void> {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const t of tensors) {
    if (t.name in header) throw new Error(`tensor name "${t.name}" is duplicated or reserved`);
    const bytes = 4 * t.shape.reduce((a, b) => a * b, 1);
    header[t.name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerBytes = new Uint8Array(json.length + ((8 - (json.length % 8)) % 8)).fill(0x20);
  headerBytes.set(json);
  const length = new Uint8Array(8);
  new DataView(length.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  await mkdir(dirname(file), { recursive: true });
  const handle = await open(file, 'w');
  try {
    await handle.write(length);
    await handle.write(headerBytes);
    for (const t of tensors) {
      const values = await t.values();
      const expected = t.shape.reduce((a, b) => a * b, 1);
      if (values.length !== expected) throw new Error(`tensor "${t.name}": shape [${t.shape.join(', ')}] has ${expected} values, got ${values.length}`);
      await handle.write(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
    }
  } finally {
    await handle.close();
  }
}
