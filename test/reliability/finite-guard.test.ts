import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, expect, test } from 'vitest';
import { createRankwise, Mlp, readSafetensorsFile, RunFailed, writeSafetensorsFile, type Pipeline, type RunSummary, type TaskData } from '@rankwise/core';
import { SilentProgress } from '@rankwise/core/runs';
import { createOptimizer, TrainingDiverged, trainLoop } from '@rankwise/core/training';
import { encodeSafetensors } from '@rankwise/formats';
import { createDatasetSource } from '@rankwise/datasets';
import pattern from '@rankwise/placement-pattern';
import { useTestBackend } from '../helpers/backend.js';

beforeAll(async () => {
  await useTestBackend();
});

const rankwise = () => createRankwise({ progress: new SilentProgress(), datasets: createDatasetSource(), plugins: [pattern] });
const digits = (split: 'train' | 'test') => ({ dataset: 'digits' as const, split, limit: 200 });
const sizes = [784, 16, 10];

function trainPipeline(
  name: string,
  optimizer: Pipeline['stages'][number] & { stage: 'train' } extends { optimizer: infer O } ? O : never,
  extra: Record<string, unknown> = {},
): Pipeline {
  return {
    name,
    seed: 3,
    stages: [
      { stage: 'load', architecture: 'mlp', config: { sizes } },
      { stage: 'train', data: digits('train'), steps: 40, batchSize: 16, logEvery: 5, optimizer, ...extra },
      { stage: 'save', merged: true },
    ],
  };
}

async function failedRun(pipeline: Pipeline): Promise<{ summary: RunSummary; message: string; metrics: string }> {
  const out = await mkdtemp(join(tmpdir(), 'rankwise-finite-'));
  const error = await rankwise()
    .run(pipeline, { out })
    .then(
      () => null,
      (e: unknown) => e,
    );
  expect(error).toBeInstanceOf(RunFailed);
  const summary = (error as RunFailed).summary;
  return { summary, message: (error as Error).message, metrics: await readFile(join(summary.runDir, 'metrics.jsonl'), 'utf8') };
}

test.each([
  ['adam', { name: 'adam', lr: 0.01 }],
  ['adamw', { name: 'adamw', lr: 0.01 }],
  ['sgd', { name: 'sgd', lr: 0.01 }],
  ['sgd + momentum', { name: 'sgd', lr: 0.01, momentum: 0.9 }],
] as const)('%s: training stops at the first non-finite loss, naming its step, even between logs; no leaks', async (_name, spec) => {
  const before = tf.memory().numTensors;
  const model = new Mlp({ sizes: [2, 1] }, 0);
  let step = 0;
  const data: TaskData = {
    name: 'poisoned',
    size: 1,
    batch: () => ({ x: tf.tensor2d([[++step === 7 ? Infinity : 1, 1]]), y: tf.tensor1d([0]) }),
    loss: (m, x) => tf.tidy(() => m.forward(x).mean() as tf.Scalar),
    evaluate: async () => ({}),
    getSamplerState: () => ({}),
    setSamplerState: () => {},
  };
  const optimizer = createOptimizer(spec);
  const logged: number[] = [];
  const run = trainLoop({
    model,
    data,
    variables: model.trainableParameters(),
    optimizer,
    steps: 20,
    batchSize: 1,
    lr: spec.lr,
    logEvery: 5,
    signal: new AbortController().signal,
    progress: { update: () => {}, stop: () => {} },
    onLog: (r) => logged.push(r.step),
  });
  await expect(run).rejects.toThrow(
    /^(loss is (NaN|-?Infinity)|gradient norm is (NaN|-?Infinity) \(loss .*\)) at step 7: training diverged; nothing was saved/,
  );
  await expect(run).rejects.toBeInstanceOf(TrainingDiverged);
  expect(logged).toEqual([5]); // steps 6–10 were never logged as a number
  optimizer.optimizer.dispose();
  model.dispose();
  expect(tf.memory().numTensors).toBe(before);
});

test('the divergence rule stops a run whose loss climbs above k× its early mean', async () => {
  const { summary, message } = await failedRun(trainPipeline('diverge-rule', { name: 'sgd', lr: 3 }, { divergence: { factor: 1.01, window: 1 }, logEvery: 1 }));
  expect(summary.status).toBe('failed');
  expect(message).toMatch(/loss \S+ at step \d+ is above 1.01× its early mean \S+: training diverged/);
});

test('metrics.jsonl writes non-finite numbers as "NaN" / "Infinity" / "-Infinity", not null', async () => {
  const { MetricsLog } = await import('../../packages/core/src/pipeline/services.js');
  const dir = await mkdtemp(join(tmpdir(), 'rankwise-metrics-'));
  const file = join(dir, 'metrics.jsonl');
  const log = new MetricsLog({ runDir: dir } as never);
  log.write({ event: 'train', loss: NaN, gradNorm: Infinity, lr: -Infinity, ok: 1.5 });
  await log.flush();
  const record = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  expect(record).toMatchObject({ loss: 'NaN', gradNorm: 'Infinity', lr: '-Infinity', ok: 1.5 });
});

test('an adapter whose lora_B holds NaN (or lora_A Inf) is refused at load, naming the file and tensor; nothing merges or saves', async () => {
  const out = await mkdtemp(join(tmpdir(), 'rankwise-nan-adapter-'));
  const base: Pipeline = {
    name: 'nan-base',
    seed: 1,
    stages: [
      { stage: 'load', architecture: 'mlp', config: { sizes } },
      { stage: 'freeze' },
      { stage: 'inject', r: 2, placement: { plugin: '@rankwise/placement-pattern', options: { target: 'all-linear' } } },
      { stage: 'save', adapter: true },
    ],
  };
  const { runDir } = await rankwise().run(base, { out });
  const weights = join(runDir, 'adapter', 'adapter_model.safetensors');
  const stored = await readSafetensorsFile(weights);
  for (const [which, value] of [
    ['lora_B', NaN],
    ['lora_A', Infinity],
  ] as const) {
    const tensors = [...stored.tensors].map(([name, t]) => {
      const data = Float32Array.from(t.data);
      if (name.includes(which)) data[1] = value;
      return { name, shape: t.shape, data };
    });
    await writeFile(weights, encodeSafetensors(tensors));
    const broken: Pipeline = {
      name: 'nan-load',
      stages: [
        { stage: 'load', architecture: 'mlp', config: { sizes }, adapter: join(runDir, 'adapter') },
        { stage: 'merge' },
        { stage: 'save', merged: true },
      ],
    };
    const error = await rankwise()
      .run(broken, { out })
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(RunFailed);
    expect((error as Error).message).toMatch(
      new RegExp(
        `adapter_model.safetensors: tensor ".*layers\\.0\\.${which}.*" holds ${value} at index \\d+ \\(1 of \\d+ values are not finite\\); refusing to load`,
      ),
    );
    expect((error as RunFailed).summary.artifacts.merged).toBeUndefined();
  }
});

test('save refuses non-finite weights (naming the tensor) and leaves no file behind', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'rankwise-nan-save-'));
  const model = new Mlp({ sizes: [3, 2] }, 0);
  const [, weight] = model.namedParameters()[0];
  tf.tidy(() => weight.assign(tf.fill(weight.shape, NaN)));
  const file = join(dir, 'model.safetensors');
  await expect(
    writeSafetensorsFile(
      file,
      model.namedParameters().map(([name, tensor]) => ({ name, tensor })),
    ),
  ).rejects.toThrow(/tensor "layers\.0\.weight" holds NaN at index 0 \(6 of 6 values are not finite\); refusing to save/);
  await expect(readFile(file)).rejects.toThrow(/ENOENT/);
  model.dispose();
});

test('a run whose loss rose is called out even without the divergence rule', async () => {
  const { lossRoseWarning } = await import('../../packages/core/src/train/finite-guard.js');
  expect(lossRoseWarning(2.3, 156)).toBe(
    'warning: the loss rose from 2.300 to 156.0; training may have diverged (lower the learning rate, set clipNorm, or add "divergence": { "factor": 3 } to stop such runs)',
  );
  expect(lossRoseWarning(2.3, 0.4)).toBeNull();
});
