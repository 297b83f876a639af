import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, test } from 'vitest';
import { createRankwise, loadAdapter, loadCheckpoint, Mlp, type DigitsDataSpec, type Pipeline } from '@rankwise/core';
import { SilentProgress } from '@rankwise/core/runs';
import { classificationTask } from '@rankwise/core/training';
import { createDatasetSource } from '@rankwise/datasets';
import pattern from '@rankwise/placement-pattern';
import { useTestBackend } from '../helpers/backend.js';

beforeAll(async () => {
  await useTestBackend();
});

const rotated: DigitsDataSpec = { dataset: 'digits', split: 'test', transform: 'rotate90', limit: 300 };
const trainData: DigitsDataSpec = { dataset: 'digits', split: 'train', transform: 'rotate90', limit: 500 };
const sizes = [784, 32, 32, 10];

/** The same LoRA recipe as a pipeline object… */
const pipeline: Pipeline = {
  name: 'programmatic-twin',
  seed: 11,
  stages: [
    { stage: 'load', architecture: 'mlp', config: { sizes } },
    { stage: 'evaluate', label: 'before', data: rotated },
    { stage: 'freeze' },
    { stage: 'inject', r: 4, alpha: 8, dropout: 0.1, placement: { plugin: '@rankwise/placement-pattern', options: { target: 'all-linear' } } },
    { stage: 'train', data: trainData, steps: 25, batchSize: 32, optimizer: { name: 'adamw', lr: 0.01 }, schedule: { type: 'cosine', warmupSteps: 5 } },
    { stage: 'evaluate', label: 'lora', data: rotated },
    { stage: 'save', adapter: true, merged: true },
  ],
};

const rankwise = () => createRankwise({ progress: new SilentProgress(), datasets: createDatasetSource(), plugins: [pattern] });

describe('pipelines from code', () => {
  test('stages composed in code on a model built by hand give exactly the pipeline file numbers; no leaks', async () => {
    const out = await mkdtemp(join(tmpdir(), 'rankwise-prog-'));
    const tensors = tf.memory().numTensors;
    const fromFile = await rankwise().run(pipeline, { out });
    expect(tf.memory().numTensors).toBe(tensors);

    const session = rankwise().session({ model: new Mlp({ sizes }, 11), seed: 11 });
    await session.stage({ stage: 'evaluate', label: 'before', data: rotated });
    await session.stage({ stage: 'freeze' });
    await session.stage({ stage: 'inject', r: 4, alpha: 8, dropout: 0.1, placement: { plugin: 'pattern', options: { target: 'all-linear' } } });
    await session.stage({
      stage: 'train',
      data: trainData,
      steps: 25,
      batchSize: 32,
      optimizer: { name: 'adamw', lr: 0.01 },
      schedule: { type: 'cosine', warmupSteps: 5 },
    });
    await session.stage({ stage: 'evaluate', label: 'lora', data: rotated });
    expect(session.evaluations.map((e) => e.metrics)).toEqual(fromFile.summary.evaluations.map((e) => e.metrics));
    session.dispose();
    expect(tf.memory().numTensors).toBe(tensors);
  });

  test('a saved adapter loads back onto the base and reproduces the unmerged evaluation exactly', async () => {
    const out = await mkdtemp(join(tmpdir(), 'rankwise-adapter-'));
    const base: Pipeline = { name: 'adapter-base', seed: 3, stages: [pipeline.stages[0], { stage: 'save', merged: true }] };
    const baseRun = await rankwise().run(base, { out });
    const adapted: Pipeline = {
      ...pipeline,
      name: 'adapter-run',
      stages: [{ stage: 'load', checkpoint: join(baseRun.runDir, 'merged') }, ...pipeline.stages.slice(1)],
    };
    const run = await rankwise().run(adapted, { out });
    const lora = run.summary.evaluations.find((e) => e.label === 'lora')!;

    const { model } = await loadCheckpoint(join(baseRun.runDir, 'merged'));
    const layers = await loadAdapter(model, join(run.runDir, 'adapter'));
    expect(layers.map((l) => [l.r, l.alpha, l.dropout])).toEqual([
      [4, 8, 0.1],
      [4, 8, 0.1],
    ]); // all-linear: every site but the head
    const data = classificationTask(await createDatasetSource().classification(rotated), 0);
    model.eval();
    expect(await data.evaluate(model, 500)).toEqual(lora.metrics);
    model.dispose();

    // …and a pipeline can load it too (load.adapter), with the same result.
    const reloaded = await rankwise().run(
      {
        name: 'adapter-reload',
        stages: [
          { stage: 'load', checkpoint: join(baseRun.runDir, 'merged'), adapter: join(run.runDir, 'adapter') },
          { stage: 'evaluate', data: rotated },
        ],
      },
      { out },
    );
    expect(reloaded.summary.evaluations[0].metrics).toEqual(lora.metrics);
  });

  test('two runs in one process share nothing (one child container each)', async () => {
    const out = await mkdtemp(join(tmpdir(), 'rankwise-twice-'));
    const rw = rankwise();
    const [a, b] = await Promise.all([rw.run(pipeline, { out }), rw.run({ ...pipeline, name: 'programmatic-twin-2' }, { out })]);
    expect(a.summary.evaluations).toEqual(b.summary.evaluations);
    expect(a.runDir).not.toBe(b.runDir);
  });
});
