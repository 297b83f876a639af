import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, test } from 'vitest';
import { createRankwise, type Linear, loadAdapter, loadHuggingFaceModel, PipelineValidationError, type Pipeline } from '@rankwise/core';
import { SilentProgress } from '@rankwise/core/runs';
import { dequantizeWeight, quantizedLinears, transposeValues } from '@rankwise/models';
import { createDatasetSource } from '@rankwise/datasets';
import pattern from '@rankwise/placement-pattern';
import { useTestBackend } from '../helpers/backend.js';
import { normRelativeError } from '../helpers/numeric.js';
import { familyFixture } from './family-fixtures.js';
import { logitsOf } from './fixtures.js';

beforeAll(async () => {
  await useTestBackend();
});

const rankwise = () => createRankwise({ progress: new SilentProgress(), datasets: createDatasetSource(), plugins: [pattern] });
const sotu = { dataset: 'sotu' as const, years: [2001, 2004] };
const FIXTURES: Record<string, string> = {
  llama: resolve('test/fixtures/hf/llama-tiny'),
  qwen2: resolve('test/fixtures/hf/qwen2-tiny'),
  ...Object.fromEntries(['llama3', 'mistral', 'qwen3', 'phi3', 'gemma', 'gemma2'].map((f) => [f, familyFixture(`${f}-tiny`)])),
};
const ids = [
  [1, 5, 9, 33, 70, 2, 11, 40],
  [3, 3, 8, 100, 21, 7, 64, 5],
];

/** QLoRA: the base quantized as it loads, LoRA on every linear layer, checkpointed blocks, 2 micro-batches per step. */
const qlora = (family: string, quantize: 'nf4' | 'int8' | 'bf16'): Pipeline => ({
  name: `${family}-qlora`,
  seed: 5,
  stages: [
    { stage: 'load', huggingface: FIXTURES[family], context: 16, quantize },
    { stage: 'evaluate', label: 'zero-shot', data: { ...sotu, split: 'validation', maxWindows: 8 } },
    { stage: 'freeze' },
    { stage: 'inject', r: 4, alpha: 8, placement: { plugin: '@rankwise/placement-pattern', options: { target: 'all-linear' } } },
    {
      stage: 'train',
      data: { ...sotu, split: 'train' },
      steps: 6,
      batchSize: 2,
      accumulateSteps: 2,
      gradientCheckpointing: true,
      optimizer: { name: 'adamw', lr: 0.02 },
    },
    { stage: 'evaluate', label: 'tuned', data: { ...sotu, split: 'validation', maxWindows: 8 } },
    { stage: 'save', adapter: true },
  ],
});

describe('QLoRA pipelines: load quantized, train adapters', () => {
  test.each(Object.keys(FIXTURES).map((f, i) => [f, (['nf4', 'nf4', 'int8', 'nf4', 'bf16', 'nf4', 'nf4', 'int8'] as const)[i]] as const))(
    '%s (%s): the decoder Linears load quantized, LoRA trains with checkpointing and accumulation; the adapter reproduces on the dequantized base',
    async (family, quantize) => {
      const out = await mkdtemp(join(tmpdir(), `rankwise-qlora-${family}-`));
      const tensors = tf.memory().numTensors;
      const { runDir, summary } = await rankwise().run(qlora(family, quantize), { out });
      expect(tf.memory().numTensors).toBe(tensors);
      const [zeroShot, tuned] = summary.evaluations;
      expect(tuned.metrics.loss).toBeLessThan(zeroShot.metrics.loss);

      // The adapter, put on the quantized base, gives the logits of the float32 model holding the dequantized weights + the adapter.
      const { model: quantized } = await loadHuggingFaceModel(FIXTURES[family], { quantize });
      const { model: dense } = await loadHuggingFaceModel(FIXTURES[family]);
      const layers = quantizedLinears(quantized);
      expect(layers.length).toBe(dense.config.num_hidden_layers * (family === 'phi3' ? 4 : 7));
      for (const [path, linear] of layers) {
        const target = dense.getSubmodule(path) as Linear;
        tf.tidy(() =>
          target.weight.assign(
            tf.tensor2d(transposeValues(dequantizeWeight(linear.quantized!), linear.outFeatures, linear.inFeatures), [linear.inFeatures, linear.outFeatures]),
          ),
        );
      }
      await loadAdapter(quantized, join(runDir, 'adapter'));
      await loadAdapter(dense, join(runDir, 'adapter'));
      const a = await logitsOf(quantized, ids);
      const b = await logitsOf(dense, ids);
      quantized.dispose();
      dense.dispose();
      expect(normRelativeError(a, b)).toBeLessThan(1e-5);
    },
  );
});

async function issuesOf(pipeline: Pipeline): Promise<string[]> {
  try {
    await rankwise().validate(pipeline);
  } catch (error) {
    if (error instanceof PipelineValidationError) return error.issues.map((i) => `${i.pointer}: ${i.message}`);
    throw error;
  }
  return [];
}

describe('validation of a quantized base', () => {
  const load = { stage: 'load' as const, huggingface: FIXTURES.llama, quantize: 'nf4' as const };
  const train = { stage: 'train' as const, data: { ...sotu, split: 'train' as const }, steps: 2, optimizer: { name: 'adam' as const, lr: 0.01 } };
  const inject = { stage: 'inject' as const, r: 4, placement: { plugin: '@rankwise/placement-pattern', options: { target: 'all-linear' } } };

  test('merging, saving the model whole, full fine-tuning, DoRA and PiSSA are refused, each at its pointer; adapters alone pass', async () => {
    expect(await issuesOf({ name: 'ok', stages: [load, { stage: 'freeze' }, inject, train, { stage: 'save', adapter: true, ggufAdapter: true }] })).toEqual([]);
    expect(
      await issuesOf({
        name: 'merge',
        stages: [load, { stage: 'freeze' }, inject, train, { stage: 'merge' }, { stage: 'save', merged: true, gguf: { type: 'f16' } }],
      }),
    ).toEqual([
      expect.stringMatching(
        /^\/stages\/4: the base model is stored quantized \(load\.quantize\): merging adapters into quantized weights is refused \(PEFT dequantizes, merges and quantizes again/,
      ),
      expect.stringMatching(
        /^\/stages\/5\/merged: the base model is stored quantized \(load\.quantize\): its weights are not saved whole; allowed: "adapter": true or "ggufAdapter": true/,
      ),
      expect.stringMatching(/^\/stages\/5\/gguf: the base model is stored quantized/),
    ]);
    expect(await issuesOf({ name: 'full', stages: [load, { stage: 'unfreeze' }, train] })).toEqual([
      expect.stringMatching(/^\/stages\/1: the base model is stored quantized \(load\.quantize\): full fine-tuning of quantized weights is not possible/),
      expect.stringMatching(/^\/stages\/2: the base model is stored quantized \(load\.quantize\) and not frozen: its Linear weights cannot be trained/),
    ]);
    expect(await issuesOf({ name: 'dora', stages: [load, { stage: 'freeze' }, { ...inject, dora: true, init: 'pissa' }, train] })).toEqual([
      expect.stringMatching(/^\/stages\/2\/dora: found true, but the base model is stored quantized \(load\.quantize\): DoRA reads W/),
      expect.stringMatching(
        /^\/stages\/2\/init: found "pissa", but the base model is stored quantized \(load\.quantize\): pissa rewrites W; allowed: kaiming, gaussian/,
      ),
    ]);
    expect(await issuesOf({ name: 'q', stages: [{ ...load, quantize: 'fp4' as never }] })).toEqual([expect.stringMatching(/^\/stages\/0\/quantize: /)]);
    expect(await issuesOf({ name: 'mlp', stages: [{ stage: 'load', architecture: 'mlp', config: { sizes: [4, 3] }, quantize: 'int8' }] })).toEqual([
      '/stages/0/quantize: found "int8", but this mlp model has no Linear weight to quantize besides its output head',
    ]);
    expect(
      await issuesOf({
        name: 'gc',
        stages: [
          { stage: 'load', architecture: 'mlp', config: { sizes: [784, 8, 10] } },
          { ...train, data: { dataset: 'digits', split: 'train' }, gradientCheckpointing: true },
        ],
      }),
    ).toEqual([
      expect.stringMatching(/^\/stages\/1\/gradientCheckpointing: found true for a mlp model; allowed: models with transformer blocks \(llama, gpt\)/),
    ]);
  });
});
