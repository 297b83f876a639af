import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { createRankwise, freeze, Gpt, injectLora, listSites, resolveBackend, type Pipeline, type RunSummary } from '@rankwise/core';
import { SilentProgress } from '@rankwise/core/runs';
import { createOptimizer, globalNorm, trainStep, sparseSoftmaxCrossEntropy } from '@rankwise/core/training';
import { createDatasetSource } from '@rankwise/datasets';
import pattern from '@rankwise/placement-pattern';
import { normRelativeError } from '../helpers/numeric.js';
import { noAdapter, suiteName } from './support.js';

/** The digits LoRA recipe, small: the same stages as pipelines/digits-lora.json, with a fresh base. */
const pipeline = (name: string): Pipeline => ({
  name,
  seed: 7,
  stages: [
    { stage: 'load', architecture: 'mlp', config: { sizes: [784, 64, 64, 10] } },
    { stage: 'freeze' },
    { stage: 'inject', r: 8, alpha: 16, placement: { plugin: '@rankwise/placement-pattern', options: { target: 'layers.*' } } },
    {
      stage: 'train',
      data: { dataset: 'digits', split: 'train', transform: 'rotate90', limit: 512 },
      steps: 8,
      batchSize: 64,
      optimizer: { name: 'adam', lr: 0.003 },
      logEvery: 1,
    },
    { stage: 'evaluate', label: 'lora', data: { dataset: 'digits', split: 'test', transform: 'rotate90', limit: 300 } },
    { stage: 'merge' },
    { stage: 'evaluate', label: 'merged', data: { dataset: 'digits', split: 'test', transform: 'rotate90', limit: 300 } },
  ],
});

async function runOnBackend(backend: 'cpu' | 'webgpu'): Promise<{ losses: number[]; summary: RunSummary }> {
  const out = await mkdtemp(join(tmpdir(), `rankwise-${backend}-`));
  const rankwise = createRankwise({ progress: new SilentProgress(), datasets: createDatasetSource(), plugins: [pattern] });
  const { summary, runDir } = await rankwise.run(pipeline(`digits-lora-${backend}`), { out, backend });
  const lines = (await readFile(join(runDir, 'metrics.jsonl'), 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { event: string; loss?: number });
  return { losses: lines.filter((l) => l.event === 'train').map((l) => l.loss!), summary };
}

describe.skipIf(noAdapter)(`${suiteName}: rankwise pipelines and models`, () => {
  it('the digits LoRA pipeline gives the same per-step losses on webgpu as on cpu (1e-4 relative), merges exactly, leaks nothing', async () => {
    const cpu = await runOnBackend('cpu');
    const gpu = await runOnBackend('webgpu');
    expect(gpu.summary.backend.name).toBe('webgpu');
    expect(gpu.losses).toHaveLength(8);
    // float32 on both, different summation orders; 8 Adam steps keep the drift far below 1e-4
    gpu.losses.forEach((l, i) => expect(Math.abs(l - cpu.losses[i]) / cpu.losses[i], `step ${i + 1}`).toBeLessThan(1e-4));
    const [lora, merged] = gpu.summary.evaluations;
    expect(merged.metrics.accuracy).toBe(lora.metrics.accuracy);
    expect(Math.abs(merged.metrics.loss - lora.metrics.loss) / lora.metrics.loss).toBeLessThan(1e-5);
    expect(Math.abs(lora.metrics.accuracy - cpu.summary.evaluations[0].metrics.accuracy)).toBeLessThanOrEqual(1 / 300);
    expect(gpu.summary.memory.numTensorsAfter).toBe(gpu.summary.memory.numTensorsBefore);
  }, 240_000);

  it('the global gradient norm over 16 gradients (more than one shader may bind) is exact', async () => {
    await resolveBackend('webgpu');
    const grads: tf.NamedTensorMap = {};
    for (let i = 0; i < 16; i++) grads[`g${i}`] = tf.fill([128, 8], 0.5);
    const norm = globalNorm(grads);
    expect((await norm.data())[0]).toBeCloseTo(Math.sqrt(16 * 1024 * 0.25), 3); // = 64; AddN of 16 gave 0 here
    tf.dispose([norm, ...Object.values(grads)]);
  });

  it("a training step over many variables gives cpu's loss and gradient norm", async () => {
    const step = async (backend: 'cpu' | 'webgpu') => {
      await resolveBackend(backend);
      const model = new Gpt({ vocabSize: 11, dim: 16, layers: 3, heads: 2, context: 8 }, 4);
      const variables = model.trainableParameters(); // 3 blocks: 45 variables
      const x = tf.tensor2d([[1, 2, 3, 4, 5, 6, 7, 8]], [1, 8], 'int32');
      const y = tf.tensor2d([[2, 3, 4, 5, 6, 7, 8, 9]], [1, 8], 'int32');
      const { optimizer } = createOptimizer({ name: 'adam', lr: 1e-3 });
      const out = trainStep({ loss: () => sparseSoftmaxCrossEntropy(model.forward(x), y), variables, optimizer });
      const values = [(await out.loss.data())[0], (await out.gradNorm.data())[0]];
      tf.dispose([out.loss, out.gradNorm, x, y]);
      optimizer.dispose();
      model.dispose();
      return { values, count: variables.length };
    };
    const cpu = await step('cpu');
    const gpu = await step('webgpu');
    expect(gpu.count).toBeGreaterThan(8);
    gpu.values.forEach((v, i) => expect(Math.abs(v - cpu.values[i]) / cpu.values[i]).toBeLessThan(1e-5));
  }, 120_000);

  it('LoRA gradients of a tiny GPT (rankwise Gpt) match cpu to 1e-5 (normwise)', async () => {
    const grads = async (backend: 'cpu' | 'webgpu') => {
      await resolveBackend(backend);
      const model = new Gpt({ vocabSize: 11, dim: 16, layers: 2, heads: 2, context: 8 }, 3);
      freeze(model);
      const layers = injectLora(
        model,
        listSites(model)
          .filter((s) => s.role === 'attn.q' || s.role === 'attn.v')
          .map((s) => ({ path: s.path, r: 4, alpha: 8 })),
        3,
      );
      layers.forEach((l, i) => tf.tidy(() => l.loraB.assign(tf.randomNormal(l.loraB.shape, 0, 0.1, 'float32', 10 + i))));
      const x = tf.tensor2d(
        [
          [1, 2, 3, 4, 5, 6, 7, 8],
          [8, 6, 4, 2, 0, 1, 3, 5],
        ],
        [2, 8],
        'int32',
      );
      const y = tf.tensor2d(
        [
          [2, 3, 4, 5, 6, 7, 8, 9],
          [7, 5, 3, 1, 2, 4, 6, 10],
        ],
        [2, 8],
        'int32',
      );
      const { value, grads: g } = tf.variableGrads(() => sparseSoftmaxCrossEntropy(model.forward(x), y), model.trainableParameters());
      const out = await Promise.all([value, ...Object.values(g)].map(async (t) => Float32Array.from(await t.data())));
      tf.dispose([value, ...Object.values(g), x, y]);
      model.dispose();
      return out;
    };
    const cpu = await grads('cpu');
    const gpu = await grads('webgpu');
    expect(gpu).toHaveLength(1 + 8); // loss + A and B of 4 sites
    gpu.forEach((g, i) => expect(normRelativeError(g, cpu[i])).toBeLessThanOrEqual(1e-5));
  }, 120_000);
});
