import * as tf from '@tensorflow/tfjs';
import { beforeAll, expect, test } from 'vitest';
import { Gpt, Llama, loadHuggingFaceModel } from '@rankwise/core';
import { generateTokens } from '@rankwise/core/training';
import type { CachedDecoder, Model } from '@rankwise/models';
import { useTestBackend } from '../helpers/backend.js';
import { fixture } from '../hf/fixtures.js';

beforeAll(async () => {
  await useTestBackend();
});

/** Logits [B, T, V] of a full forward pass over ids. */
async function fullLogits(model: Model, ids: number[][]): Promise<Float32Array> {
  const out = tf.tidy(() => model.forward(tf.tensor2d(ids, [ids.length, ids[0].length], 'int32')));
  const values = (await out.data()) as Float32Array;
  out.dispose();
  return values;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

/**
 * Prefills `prompt` then feeds `rest` one token at a time through the cache; each step's logits must equal the last
 * position of a full forward pass over the sequence so far.
 */
async function expectCachedEqualsFull(model: Model & CachedDecoder, prompt: number[], rest: number[]): Promise<number> {
  model.eval();
  const cache = model.createCache(1);
  const before = tf.memory().numTensors;
  let worst = 0;
  const sequence = [...prompt];
  const step = async (ids: number[]) => {
    const out = tf.tidy(() => model.forwardCached(tf.tensor2d(ids, [1, ids.length], 'int32'), cache));
    const cached = (await out.data()) as Float32Array;
    const vocab = out.shape[2] as number;
    out.dispose();
    const full = await fullLogits(model, [sequence]);
    // every new position of this step: prefill compares all T positions, decode the one
    const t = ids.length;
    worst = Math.max(worst, maxAbsDiff(cached, full.subarray((sequence.length - t) * vocab)));
  };
  await step(prompt);
  for (const id of rest) {
    sequence.push(id);
    await step([id]);
  }
  cache.dispose();
  expect(tf.memory().numTensors).toBe(before);
  return worst;
}

const ids = (n: number, vocab: number, seed: number) => Array.from({ length: n }, (_, i) => (i * 7919 + seed * 104729) % vocab);

test('Llama (tiny HF fixture): cached decoding gives the logits of full recomputation to 1e-5', async () => {
  const { model } = await loadHuggingFaceModel(fixture('llama-tiny'));
  expect(await expectCachedEqualsFull(model, ids(9, 384, 1), ids(12, 384, 2))).toBeLessThan(1e-5);
  model.dispose();
});

test('Qwen2 (q/k/v biases) and a random GPT: cached decoding equals full recomputation to 1e-5', async () => {
  const { model: qwen } = await loadHuggingFaceModel(fixture('qwen2-tiny'));
  expect(await expectCachedEqualsFull(qwen, ids(5, qwen.config.vocab_size, 3), ids(10, qwen.config.vocab_size, 4))).toBeLessThan(1e-5);
  qwen.dispose();
  // 75 decode steps: the cache's tail block fills (64 positions) and joins the base on the way
  const gpt = new Gpt({ vocabSize: 50, dim: 32, layers: 2, heads: 4, context: 96 }, 7);
  expect(await expectCachedEqualsFull(gpt, ids(6, 50, 5), ids(75, 50, 6))).toBeLessThan(1e-5);
  gpt.dispose();
});

test('left-padded batches: every row gives the logits it gives alone (Llama positions and GPT positions follow the mask)', async () => {
  const llama = (await loadHuggingFaceModel(fixture('llama-tiny'))).model;
  const gpt = new Gpt({ vocabSize: 50, dim: 32, layers: 2, heads: 4, context: 32 }, 3);
  for (const model of [llama, gpt] as Array<Model & CachedDecoder>) {
    model.eval();
    const vocab = model instanceof Llama ? 384 : 50;
    const prompts = [ids(7, vocab, 1), ids(3, vocab, 2), ids(5, vocab, 3)];
    const greedyBatch = await generateTokens(model, prompts, { maxNewTokens: 6 });
    // prefilled in chunks of 2 tokens through the cache: the same tokens
    expect((await generateTokens(model, prompts, { maxNewTokens: 6, prefillChunk: 2 })).tokens).toEqual(greedyBatch.tokens);
    for (const [b, p] of prompts.entries()) {
      const alone = await generateTokens(model, [p], { maxNewTokens: 6 });
      expect(greedyBatch.tokens[b]).toEqual(alone.tokens[0]);
      // the batch's last-step logits for row b equal the full forward pass over row b's sequence
      const full = await fullLogits(model, [[...p, ...alone.tokens[0].slice(0, 5)]]);
      const padded = prompts.map((q) => [...Array(7 - q.length).fill(0), ...q]);
      const cache = model.createCache(3);
      const real = prompts.map((q) => Array.from({ length: 7 }, (_, i) => i >= 7 - q.length));
      const first = tf.tidy(() => model.forwardCached(tf.tensor2d(padded, [3, 7], 'int32'), cache, { realRows: real, lastOnly: true }));
      first.dispose();
      let last: Float32Array = new Float32Array();
      for (let s = 0; s < 5; s++) {
        const next = prompts.map((_, r) => greedyBatch.tokens[r][s]);
        const out = tf.tidy(() => model.forwardCached(tf.tensor2d(next, [3, 1], 'int32'), cache));
        last = ((await out.data()) as Float32Array).slice(b * vocab, (b + 1) * vocab);
        out.dispose();
      }
      cache.dispose();
      expect(maxAbsDiff(last, full.subarray(full.length - vocab))).toBeLessThan(1e-5);
    }
    model.dispose();
  }
});

test('no tensor leaks over a long generation (sampling, past the context window)', async () => {
  const gpt = new Gpt({ vocabSize: 40, dim: 16, layers: 2, heads: 2, context: 24 }, 11);
  const before = tf.memory().numTensors;
  const out = await generateTokens(gpt, [ids(5, 40, 1), ids(9, 40, 2)], { maxNewTokens: 60, sample: true, temperature: 0.9, topK: 20, topP: 0.9, seed: 4 });
  expect(out.tokens.map((t) => t.length)).toEqual([60, 60]);
  expect(tf.memory().numTensors).toBe(before);
  const again = await generateTokens(gpt, [ids(5, 40, 1), ids(9, 40, 2)], { maxNewTokens: 60, sample: true, temperature: 0.9, topK: 20, topP: 0.9, seed: 4 });
  expect(again.tokens).toEqual(out.tokens);
  gpt.dispose();
});
