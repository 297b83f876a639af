import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { decodeSafetensors, encodeSafetensors, type NamedFloat32, type SafetensorsContents } from './safetensors.js';

/** Reads tensor values asynchronously (works on every backend) and writes them as F32 safetensors. */
export async function writeSafetensorsFile(
  file: string,
  tensors: ReadonlyArray<{ name: string; tensor: tf.Tensor }>,
  metadata: Record<string, string> = {},
): Promise<void> {
  const named: NamedFloat32[] = [];
  for (const { name, tensor } of tensors) {
    const data = await tensor.data();
    named.push({ name, shape: [...tensor.shape], data: data instanceof Float32Array ? data : Float32Array.from(data as ArrayLike<number>) });
  }
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, encodeSafetensors(named, metadata));
}

export async function readSafetensorsFile(file: string): Promise<SafetensorsContents> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (error) {
    throw new Error(`${file}: cannot read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  return decodeSafetensors(bytes, file);
}
