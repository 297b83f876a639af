import * as tf from '@tensorflow/tfjs';
import { beforeAll, expect, test } from 'vitest';
import { loadHuggingFaceModel, type Llama } from '@rankwise/core';
import { generateTokens } from '@rankwise/core/training';
import { useTestBackend } from '../helpers/backend.js';
import { normRelativeError } from '../helpers/numeric.js';
import { editedFixture, familyFixture } from './family-fixtures.js';

beforeAll(async () => {
  await useTestBackend();
});

const ids = (n: number, vocab: number, seed: number) => Array.from({ length: n }, (_, i) => (i * 7919 + seed * 104729) % vocab);

/** Logits [T, V] of a full forward pass over one sequence. */
async function fullLogits(model: Llama, sequence: number[]): Promise<Float32Array> {
  const out = tf.tidy(() => model.forward(tf.tensor2d([sequence], [1, sequence.length], 'int32')));
  const values = Float32Array.from(await out.data());
  out.dispose();
  return values;
}

/**
 * Prefill 5 tokens, then decode 12 one at a time through the KV cache (17 positions: past Mistral's window 5, Phi-3's
 * 7, Gemma 2's 4); each step's logits against the last position of a full forward pass over the sequence so far.
 */
async function cachedVersusFull(model: Llama): Promise<number> {
  model.eval();
  const vocab = model.config.vocab_size;
  const cache = model.createCache(1);
  const before = tf.memory().numTensors;
  const sequence = ids(5, vocab, 1);
  let worst = 0;
  const step = async (newIds: number[]) => {
    const out = tf.tidy(() => model.forwardCached(tf.tensor2d([newIds], [1, newIds.length], 'int32'), cache));
    const cached = Float32Array.from(await out.data());
    out.dispose();
    const full = await fullLogits(model, sequence);
    worst = Math.max(worst, normRelativeError(cached, full.subarray((sequence.length - newIds.length) * vocab)));
  };
  await step(sequence.slice());
  for (const id of ids(12, vocab, 2)) {
    sequence.push(id);
    await step([id]);
  }
  cache.dispose();
  expect(tf.memory().numTensors).toBe(before);
  return worst;
}

test.each(['llama3', 'mistral', 'qwen3', 'phi3', 'gemma', 'gemma2'])(
  '%s: KV-cache decoding gives the logits of full recomputation (window, soft-caps, q/k norms, fused projections, scales)',
  async (family) => {
    const { model } = await loadHuggingFaceModel(familyFixture(`${family}-tiny`));
    const error = await cachedVersusFull(model);
    model.dispose();
    expect(error).toBeLessThan(1e-5);
  },
);

test('longrope: decoding across original_max_position_embeddings is refused (every key would switch to long_factor); a prefill beyond it equals the full pass', async () => {
  const dir = editedFixture('phi3-tiny', (c) => {
    c.rope_scaling = { type: 'longrope', short_factor: [1.0, 1.5], long_factor: [2.0, 6.0] };
    c.original_max_position_embeddings = 8;
  });
  const { model } = await loadHuggingFaceModel(dir);
  model.eval();
  const prompt = ids(10, 384, 3);
  const cache = model.createCache(1);
  const out = tf.tidy(() => model.forwardCached(tf.tensor2d([prompt], [1, 10], 'int32'), cache));
  expect(normRelativeError(Float32Array.from(await out.data()), await fullLogits(model, prompt))).toBeLessThan(1e-5);
  out.dispose();
  cache.dispose();
  await expect(generateTokens(model, [ids(6, 384, 4)], { maxNewTokens: 6 })).rejects.toThrow('longrope: the cache holds 8 positions rotated with short_factor');
  model.dispose();
});
