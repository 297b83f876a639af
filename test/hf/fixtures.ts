import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { readSafetensorsFile } from '@rankwise/core';
import type { Model } from '@rankwise/models';

/** Outputs of scripts/hf-reference/make_llama_reference.py (committed, so CI needs no Python). */
export const HF_FIXTURES = resolve('test/fixtures/hf');
export const fixture = (name: string): string => resolve(HF_FIXTURES, name);

export interface Reference {
  /** Token ids [2, 12]. */
  ids: number[][];
  sentence: string;
  sentenceIds: number[];
  eosId: number;
}

export const reference = JSON.parse(readFileSync(fixture('reference.json'), 'utf8')) as Reference;

/** PyTorch logits [2, 12, 384] (computed in float64, stored as F32) by name: 'llama-tiny', 'llama-tiny+adapter-qv', … */
export async function referenceLogits(name: string): Promise<Float32Array> {
  const { tensors } = await readSafetensorsFile(fixture('reference.safetensors'));
  const t = tensors.get(name);
  if (!t) throw new Error(`reference.safetensors has no "${name}"; it has ${[...tensors.keys()].join(', ')}`);
  return t.data;
}

/** rankwise's logits for the reference ids. */
export async function logitsOf(model: Model, ids: number[][] = reference.ids): Promise<Float32Array> {
  model.eval();
  const out = tf.tidy(() => model.forward(tf.tensor2d(ids, [ids.length, ids[0].length], 'int32')));
  const values = Float32Array.from(await out.data());
  out.dispose();
  return values;
}
