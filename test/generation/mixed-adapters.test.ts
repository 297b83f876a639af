/**
 * PEFT's mixed-batch inference (adapter_names): one batch, one base, each row with its own adapter or "__base__".
 * Rows must give PyTorch's greedy tokens for their adapter (scripts/hf-reference/make_greedy_reference.py), and each
 * row's logits must be the ones the row gives alone with that adapter active.
 */
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, expect, test } from 'vitest';
import { injectLora, loadAdapter, loadHuggingFaceModel, withAdapter } from '@rankwise/core';
import { generateTokens } from '@rankwise/core/training';
import { mergeAdapters, withRowAdapters } from '@rankwise/lora';
import { useTestBackend } from '../helpers/backend.js';
import { fixture } from '../hf/fixtures.js';

interface GreedyCase {
  model: string;
  adapter: string | null;
  repetitionPenalty: number;
  prompt: number[];
  tokens: number[];
}
const reference = JSON.parse(readFileSync(fixture('greedy-reference.json'), 'utf8')) as { newTokens: number; cases: GreedyCase[] };
const pick = (adapter: string | null, length: number): GreedyCase =>
  reference.cases.find((c) => c.model === 'llama-tiny' && c.adapter === adapter && c.repetitionPenalty === 1 && c.prompt.length === length)!;

beforeAll(async () => {
  await useTestBackend();
});

async function llamaWithAdapters() {
  const { model } = await loadHuggingFaceModel(fixture('llama-tiny'));
  await loadAdapter(model, fixture('adapter-qv'), 0, 'qv');
  await loadAdapter(model, fixture('rankwise-trained'), 0, 'trained');
  return model;
}

test("a mixed batch (qv, __base__, trained rows, left-padded) gives each row PyTorch's greedy tokens for its adapter", async () => {
  const model = await llamaWithAdapters();
  const before = tf.memory().numTensors;
  const rows = [pick('adapter-qv', 10), pick(null, 12), pick('adapter-qv', 3), pick(null, 3)];
  const names = ['qv', '__base__', 'qv', '__base__', 'trained'];
  const prompts = [...rows.map((c) => c.prompt), rows[0].prompt];
  const options = { maxNewTokens: reference.newTokens };
  const mixed = await withRowAdapters(model, names, () => generateTokens(model, prompts, options));
  expect(mixed.tokens.slice(0, 4)).toEqual(rows.map((c) => c.tokens));
  // the adapter without a PyTorch reference: what the row gives alone with that adapter active
  const trained = await withAdapter(model, 'trained', () => generateTokens(model, [rows[0].prompt], options));
  expect(mixed.tokens[4]).toEqual(trained.tokens[0]);
  expect(mixed.tokens[4]).not.toEqual(rows[0].tokens);
  expect(tf.memory().numTensors).toBe(before);
  model.dispose();
});

test("each row's logits equal the row alone with its adapter active (to 1e-5); the active set is back afterwards", async () => {
  const model = await llamaWithAdapters();
  model.eval();
  const ids = [pick(null, 12).prompt, pick(null, 12).prompt.map((t) => (t * 7 + 3) % 300), pick(null, 12).prompt.map((t) => (t * 5 + 1) % 300)];
  const names = ['trained', 'qv', '__base__'];
  const logitsOf = async (x: number[][]) => {
    const out = tf.tidy(() => model.forward(tf.tensor2d(x, [x.length, x[0].length], 'int32')));
    const values = (await out.data()) as Float32Array;
    out.dispose();
    return values;
  };
  const mixed = await withRowAdapters(model, names, () => logitsOf(ids));
  const per = mixed.length / ids.length;
  for (const [b, name] of names.entries()) {
    const alone = await withAdapter(model, name === '__base__' ? null : name, () => logitsOf([ids[b]]));
    let worst = 0;
    for (let i = 0; i < per; i++) worst = Math.max(worst, Math.abs(alone[i] - mixed[b * per + i]));
    expect(worst).toBeLessThan(1e-5);
  }
  // back to the active set (qv, the first loaded) for every row
  const after = await logitsOf([ids[2]]);
  const qv = await withAdapter(model, 'qv', () => logitsOf([ids[2]]));
  expect(Array.from(after)).toEqual(Array.from(qv));
  model.dispose();
});

test('refused: an unknown adapter name, a row count that is not the batch, merged adapters', async () => {
  const model = await llamaWithAdapters();
  const before = tf.memory().numTensors;
  const ids = pick(null, 3).prompt;
  await expect(withRowAdapters(model, ['qv', 'sql'], () => 0)).rejects.toThrow('adapter_names[1]: no adapter named "sql"; allowed: qv, trained, __base__');
  await expect(withRowAdapters(model, ['qv', 'trained'], () => generateTokens(model, [ids], { maxNewTokens: 2 }))).rejects.toThrow(
    'mixed-adapter batch: 2 adapter names for a batch of 1 rows',
  );
  expect(tf.memory().numTensors).toBe(before);
  mergeAdapters(model);
  await expect(withRowAdapters(model, ['qv'], () => 0)).rejects.toThrow('the adapters are merged into the base weight');
  model.dispose();
});

test('refused: an adapter of another variant than plain LoRA (DoRA), as PEFT refuses adapter_names with it', async () => {
  const model = await llamaWithAdapters();
  injectLora(model, [{ path: 'model.layers.0.self_attn.q_proj', r: 2, alpha: 4, variant: 'dora' }], 3, 'dora');
  await expect(withRowAdapters(model, ['qv', 'dora'], () => 0)).rejects.toThrow(
    'mixed-adapter batches: adapter "dora" uses the dora variant; PEFT\'s adapter_names supports plain LoRA only',
  );
  model.dispose();
});
