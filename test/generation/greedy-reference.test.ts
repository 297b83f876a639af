import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, expect, test } from 'vitest';
import { loadAdapter, loadHuggingFaceModel } from '@rankwise/core';
import { generateTokens } from '@rankwise/core/training';
import { useTestBackend } from '../helpers/backend.js';
import { fixture } from '../hf/fixtures.js';

/** scripts/hf-reference/make_greedy_reference.py: PyTorch greedy search (float64, full recomputation per step) on the tiny fixtures. */
interface GreedyCase {
  model: string;
  adapter: string | null;
  repetitionPenalty: number;
  prompt: number[];
  tokens: number[];
  minTop2Margin: number;
}
const reference = JSON.parse(readFileSync(fixture('greedy-reference.json'), 'utf8')) as { newTokens: number; cases: GreedyCase[] };

beforeAll(async () => {
  await useTestBackend();
});

/** The cases grouped by model, adapter and penalty: each group's prompts also run as one left-padded batch. */
const groups = new Map<string, GreedyCase[]>();
for (const c of reference.cases) {
  const key = `${c.model}${c.adapter ? `+${c.adapter}` : ''}, repetition penalty ${c.repetitionPenalty}`;
  groups.set(key, [...(groups.get(key) ?? []), c]);
}

test.each([...groups.keys()])('greedy output equals PyTorch token for token: %s (each prompt alone and as a padded batch)', async (key) => {
  const cases = groups.get(key)!;
  const { model } = await loadHuggingFaceModel(fixture(cases[0].model));
  if (cases[0].adapter) await loadAdapter(model, fixture(cases[0].adapter));
  const before = tf.memory().numTensors;
  const options = { maxNewTokens: reference.newTokens, repetitionPenalty: cases[0].repetitionPenalty };
  for (const c of cases) expect((await generateTokens(model, [c.prompt], options)).tokens[0]).toEqual(c.tokens);
  const batch = await generateTokens(
    model,
    cases.map((c) => c.prompt),
    options,
  );
  expect(batch.tokens).toEqual(cases.map((c) => c.tokens));
  expect(tf.memory().numTensors).toBe(before);
  model.dispose();
});
