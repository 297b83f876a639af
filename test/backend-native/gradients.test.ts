/**
 * Whole-model gradients on 'native' against the cpu backend: an MLP (64-48-32-10, ReLU, softmax
 * cross-entropy) and a tiny GPT-style transformer (embedding gather, LayerNorm, causal attention,
 * GELU-tanh, cross-entropy). Every gradient agrees to 1e-6 relative to its scale:
 * max|native - cpu| / max|cpu| per variable. No tensor leaks.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';

import { makeGpt, makeMlp, type TrainingWorkload } from '../../packages/backend-native/bench/workloads.js';
import { normRelativeError } from '../helpers/numeric.js';
import { skipReason } from './helpers.js';

const TOL = 1e-6;

interface Grads {
  loss: number;
  grads: Float32Array[];
}

async function gradientsOn(backendName: string, make: () => TrainingWorkload): Promise<Grads> {
  await tf.setBackend(backendName);
  const before = tf.memory().numTensors;
  const workload = make();
  const { value, grads } = tf.variableGrads(workload.loss, workload.variables);
  const loss = (await value.data())[0];
  const values = await Promise.all(workload.variables.map(async (v) => (await grads[v.name].data()) as Float32Array));
  tf.dispose([value, grads]);
  workload.dispose();
  expect(tf.memory().numTensors).toBe(before);
  return { loss, grads: values };
}

async function compare(make: () => TrainingWorkload): Promise<number> {
  const expected = await gradientsOn('cpu', make);
  const actual = await gradientsOn('native', make);
  expect(Math.abs(actual.loss - expected.loss) / Math.abs(expected.loss)).toBeLessThan(TOL);
  return Math.max(...actual.grads.map((g, i) => normRelativeError(g, expected.grads[i])));
}

describe.skipIf(skipReason !== '')(`native gradients match the cpu backend ${skipReason}`, () => {
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it('MLP 64-48-32-10 (batch 16)', async () => {
    const err = await compare(() => makeMlp({ sizes: [64, 48, 32, 10], batch: 16, seed: 3 }));
    expect(err).toBeLessThan(TOL);
  });

  it('tiny transformer (vocab 11, d 16, 2 layers, 2 heads, context 8, batch 3)', async () => {
    const err = await compare(() => makeGpt({ vocab: 11, dModel: 16, layers: 2, heads: 2, context: 8, batch: 3, seed: 5 }));
    expect(err).toBeLessThan(TOL);
  });
});
