import { open, readFile } from 'node:fs/promises';
import type * as tf from '@tensorflow/tfjs';
import { assertFiniteTensor } from './finite-values.js';
import { atomicWriteFile } from './atomic-write.js';
import { describeFsError, isFsError } from './fs-errors.js';
import {
  decodeSafetensors,
  parseSafetensorsHeader,
  encodeSafetensors,
  MAX_HEADER_BYTES,
  SafetensorsError,
  type NamedFloat32,
  type SafetensorsContents,
  type SafetensorsHeader,
} from './safetensors.js';

/**
 * Reads tensor values asynchronously (works on every backend) and writes them as F32 safetensors, atomically
 * (temporary file, then rename). Non-finite values are refused, naming the tensor: nothing NaN is ever saved.
 */
export async function writeSafetensorsFile(
  file: string,
  tensors: ReadonlyArray<{ name: string; tensor: tf.Tensor }>,
  metadata: Record<string, string> = {},
): Promise<void> {
  const named: NamedFloat32[] = [];
  for (const { name, tensor } of tensors) {
    const data = await tensor.data();
    const floats = data instanceof Float32Array ? data : Float32Array.from(data as ArrayLike<number>);
    assertFiniteTensor(file, name, floats, 'refusing to save non-finite weights');
    named.push({ name, shape: [...tensor.shape], data: floats });
  }
  await atomicWriteFile(file, encodeSafetensors(named, metadata));
}

/** Reads and checks a whole safetensors file; a non-finite value is an error naming the tensor. */
export async function readSafetensorsFile(file: string): Promise<SafetensorsContents> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (error) {
    throw new Error(isFsError(error) ? `cannot read ${describeFsError(error, file)}` : `${file}: cannot read (${(error as Error).message})`);
  }
  const contents = decodeSafetensors(bytes, file);
  for (const [name, { data }] of contents.tensors) assertFiniteTensor(file, name, data, 'refusing to load non-finite weights');
  return contents;
}

/** Reads only the header of a safetensors file (names, dtypes, shapes, offsets), checked against the file's size. */
export async function readSafetensorsHeaderFile(file: string): Promise<SafetensorsHeader> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    throw new Error(isFsError(error) ? `cannot read ${describeFsError(error, file)}` : `${file}: cannot read (${(error as Error).message})`);
  }
  try {
    const { size } = await handle.stat();
    const head = new Uint8Array(8);
    await handle.read(head, 0, 8, 0);
    const length = size >= 8 ? Number(new DataView(head.buffer).getBigUint64(0, true)) : 0;
    const want = Math.min(size, 8 + Math.min(length, MAX_HEADER_BYTES));
    const prefix = new Uint8Array(want);
    if (want > 0) await handle.read(prefix, 0, want, 0);
    return parseSafetensorsHeader(prefix, size, file);
  } catch (error) {
    if (error instanceof SafetensorsError) throw error;
    throw new Error(isFsError(error) ? `cannot read ${describeFsError(error, file)}` : `${file}: cannot read (${(error as Error).message})`);
  } finally {
    await handle.close();
  }
}
