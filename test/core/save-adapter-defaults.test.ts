import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, expect, test } from 'vitest';
import { createRankwise, injectLora, listSites, loadCheckpoint, loadHuggingFaceModel, saveAdapter, type Pipeline } from '@rankwise/core';
import { SilentProgress } from '@rankwise/core/runs';
import { createDatasetSource } from '@rankwise/datasets';
import pattern from '@rankwise/placement-pattern';
import { useTestBackend } from '../helpers/backend.js';

beforeAll(async () => {
  await useTestBackend();
});

const HF = 'test/fixtures/hf/llama-tiny';
const rankwise = () => createRankwise({ progress: new SilentProgress(), datasets: createDatasetSource(), plugins: [pattern] });
const peftKeys = async (dir: string) => {
  const config = JSON.parse(await readFile(join(dir, 'adapter_config.json'), 'utf8')) as Record<string, unknown>;
  return { base_model_name_or_path: config.base_model_name_or_path, task_type: config.task_type };
};
const runDir = async (out: string, name: string) => join(out, name, (await readdir(join(out, name))).find((n) => n !== 'latest')!);

/** A library saveAdapter(model, dir) without options writes PEFT's base_model_name_or_path and task_type as the save stage does. */
test('saveAdapter without options: the same base_model_name_or_path / task_type as the save stage (Hugging Face and checkpoint bases)', async () => {
  const out = await mkdtemp(join(tmpdir(), 'rankwise-save-defaults-'));
  const inject = { stage: 'inject', r: 2, placement: { plugin: 'pattern', options: { target: 'all-linear' } } } as const;
  const hf: Pipeline = {
    name: 'hf-adapter',
    seed: 1,
    stages: [{ stage: 'load', huggingface: HF }, { stage: 'freeze' }, inject, { stage: 'save', adapter: true }],
  };
  await rankwise().run(hf, { out });
  const fromStage = await peftKeys(join(await runDir(out, 'hf-adapter'), 'adapter'));
  expect(fromStage).toEqual({ base_model_name_or_path: 'rankwise/llama-tiny-random', task_type: 'CAUSAL_LM' });

  const tensors = tf.memory().numTensors;
  const { model } = await loadHuggingFaceModel(HF);
  injectLora(
    model,
    listSites(model)
      .filter((s) => s.path.endsWith('q_proj'))
      .map((s) => ({ path: s.path, r: 2, alpha: 4 })),
    1,
  );
  const dir = join(out, 'library-hf');
  await saveAdapter(model, dir);
  expect(await peftKeys(dir)).toEqual(fromStage);
  // explicit options still win (null included)
  await saveAdapter(model, join(out, 'explicit'), { baseModel: null, taskType: 'SEQ_CLS' });
  expect(await peftKeys(join(out, 'explicit'))).toEqual({ base_model_name_or_path: null, task_type: 'SEQ_CLS' });
  model.dispose();
  expect(tf.memory().numTensors).toBe(tensors);

  // a rankwise checkpoint: the path from the working directory, no task type (a classifier)
  const base: Pipeline = {
    name: 'mlp-base',
    seed: 2,
    stages: [
      { stage: 'load', architecture: 'mlp', config: { sizes: [784, 6, 10] } },
      { stage: 'save', merged: true },
    ],
  };
  await rankwise().run(base, { out });
  const merged = join(await runDir(out, 'mlp-base'), 'merged');
  await rankwise().run(
    { name: 'mlp-adapter', seed: 2, stages: [{ stage: 'load', checkpoint: merged }, { stage: 'freeze' }, inject, { stage: 'save', adapter: true }] },
    { out },
  );
  const mlpStage = await peftKeys(join(await runDir(out, 'mlp-adapter'), 'adapter'));
  expect(mlpStage).toEqual({ base_model_name_or_path: relative(process.cwd(), merged), task_type: null });
  const { model: mlp } = await loadCheckpoint(merged);
  injectLora(
    mlp,
    listSites(mlp).map((s) => ({ path: s.path, r: 2, alpha: 4 })),
    1,
  );
  await saveAdapter(mlp, join(out, 'library-mlp'));
  expect(await peftKeys(join(out, 'library-mlp'))).toEqual(mlpStage);
  mlp.dispose();
});
