import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, expect, test } from 'vitest';
import { createRankwise, type Pipeline } from '@rankwise/core';
import { SilentProgress } from '@rankwise/core/runs';
import { createDatasetSource } from '@rankwise/datasets';
import pattern from '@rankwise/placement-pattern';
import { useTestBackend } from '../helpers/backend.js';

beforeAll(async () => {
  await useTestBackend();
});

const rankwise = () => createRankwise({ progress: new SilentProgress(), datasets: createDatasetSource(), plugins: [pattern] });
const digits = { dataset: 'digits', split: 'test', limit: 64 } as const;
const train = {
  stage: 'train',
  data: { dataset: 'digits', split: 'train', limit: 64 },
  steps: 2,
  batchSize: 16,
  optimizer: { name: 'adamw', lr: 0.01 },
} as const;
const runDir = async (out: string, name: string) => join(out, name, (await readdir(join(out, name))).find((n) => n !== 'latest')!);
// mlp 784 → 8 → 10, r = 2 on every linear layer but the head (all-linear, as PEFT): A [784, 2] + B [2, 8]
const LORA_PARAMS = 784 * 2 + 2 * 8;
const TOTAL = 784 * 8 + 8 + 8 * 10 + 10 + LORA_PARAMS;

/**
 * PEFT's PeftModel.from_pretrained(model, path) loads an adapter frozen (is_trainable=False): a pipeline that loads
 * one and only evaluates reports `trainable params: 0`. A train stage after it is is_trainable=True: the adapter
 * trains, the base stays frozen (before, the whole base trained with it).
 */
test('adapters loaded from files are frozen (trainable 0); a following train stage trains the adapter only', async () => {
  const out = await mkdtemp(join(tmpdir(), 'rankwise-frozen-'));
  const base: Pipeline = {
    name: 'frozen-base',
    seed: 4,
    stages: [
      { stage: 'load', architecture: 'mlp', config: { sizes: [784, 8, 10] } },
      { stage: 'save', merged: true },
      { stage: 'freeze' },
      { stage: 'inject', r: 2, placement: { plugin: 'pattern', options: { target: 'all-linear' } } },
      train,
      { stage: 'save', adapter: true },
    ],
  };
  const baseRun = await rankwise().run(base, { out });
  expect(baseRun.summary.trainableParams).toBe(LORA_PARAMS);
  const dir = await runDir(out, 'frozen-base');
  const load = { stage: 'load', checkpoint: join(dir, 'merged'), adapter: join(dir, 'adapter') } as const;

  const evaluated = await rankwise().run({ name: 'frozen-eval', stages: [load, { stage: 'evaluate', data: digits }] }, { out });
  expect(evaluated.summary.trainableParams).toBe(0);
  expect(evaluated.summary.totalParams).toBe(TOTAL);
  expect(evaluated.summary.parameterReport).toBe(`trainable params: 0 || all params: ${TOTAL.toLocaleString('en-US')} || trainable%: 0.0000`);

  const trained = await rankwise().run({ name: 'frozen-train', stages: [load, train] }, { out });
  expect(trained.summary.trainableParams).toBe(LORA_PARAMS);
});
