import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, test } from 'vitest';
import { freeze, injectLora, Llama, listSites } from '@rankwise/core';
import { createOptimizer, languageModelTask, setGradientCheckpointing, trainLoop, type LogRecord } from '@rankwise/core/training';
import { useTestBackend } from '../helpers/backend.js';
import { normRelativeError, values } from '../helpers/numeric.js';
import { tinyLlamaConfig } from '../helpers/tiny-llama.js';

beforeAll(async () => {
  await useTestBackend();
});

const tinyLlama = tinyLlamaConfig({ vocab_size: 53, hidden_size: 32, intermediate_size: 48, num_hidden_layers: 2, context: 12 });
const ids = Int32Array.from({ length: 2000 }, (_, i) => (i * 7 + ((i * i) % 11)) % 53);

interface Outcome {
  params: Float32Array[];
  logs: LogRecord[];
  progress: number[];
}

/** LoRA on every site of a tiny Llama, `steps` optimizer steps of `micro` micro-batches of `batch` windows each. */
async function train(batch: number, micro: number, options: { checkpointing?: boolean; clipNorm?: number } = {}): Promise<Outcome> {
  const model = new Llama(tinyLlama, 3);
  freeze(model);
  injectLora(
    model,
    listSites(model).map((s) => ({ path: s.path, r: 4, alpha: 8 })),
    5,
  );
  if (options.checkpointing) setGradientCheckpointing(model, true);
  const data = languageModelTask({ name: 'pattern', ids, coverage: 1 }, 12, 7);
  const optimizer = createOptimizer({ name: 'adamw', lr: 0.01 });
  const logs: LogRecord[] = [];
  const progress: number[] = [];
  await trainLoop({
    model,
    data,
    variables: model.trainableParameters(),
    optimizer,
    steps: 6,
    batchSize: batch,
    accumulateSteps: micro,
    lr: 0.01,
    schedule: { type: 'cosine', warmupSteps: 2, minLr: 0.001 },
    clipNorm: options.clipNorm,
    logEvery: 2,
    signal: new AbortController().signal,
    progress: { update: (done) => progress.push(done), stop: () => {} },
    onLog: (r) => logs.push(r),
  });
  const params = await Promise.all(model.trainableParameters().map((v) => values(v)));
  optimizer.optimizer.dispose();
  model.dispose();
  return { params, logs, progress };
}

describe('gradient accumulation', () => {
  test('3 micro-batches of 2 windows make the update of one batch of 6: parameters to 1e-5, same losses, lr schedule and progress per optimizer step; no leaks', async () => {
    const before = tf.memory().numTensors;
    const large = await train(6, 1, { clipNorm: 0.5 });
    const accumulated = await train(2, 3, { clipNorm: 0.5 });
    expect(tf.memory().numTensors).toBe(before);
    let worst = 0;
    large.params.forEach((p, i) => (worst = Math.max(worst, normRelativeError(accumulated.params[i], p))));
    console.info(`[accumulation] worst relative parameter difference after 6 steps: ${worst.toExponential(2)}`);
    expect(worst).toBeLessThan(1e-5);
    expect(accumulated.logs.map((l) => l.step)).toEqual([2, 4, 6]);
    expect(accumulated.logs.map((l) => l.lr)).toEqual(large.logs.map((l) => l.lr));
    accumulated.logs.forEach((l, i) => {
      expect(l.loss).toBeCloseTo(large.logs[i].loss, 5);
      expect(l.gradNorm).toBeCloseTo(large.logs[i].gradNorm, 5);
    });
    expect(accumulated.progress).toEqual([1, 2, 3, 4, 5, 6]);
    // and it is not the update of one micro-batch: the check can fail
    const small = await train(2, 1, { clipNorm: 0.5 });
    expect(normRelativeError(small.params[0], large.params[0])).toBeGreaterThan(1e-3);
  });

  test('with gradient checkpointing: the same parameters as without', async () => {
    const plain = await train(2, 2);
    const checkpointed = await train(2, 2, { checkpointing: true });
    checkpointed.params.forEach((p, i) => expect(normRelativeError(p, plain.params[i])).toBeLessThanOrEqual(1e-6));
  });
});
