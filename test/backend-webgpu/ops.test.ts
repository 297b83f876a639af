import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { compareBackends, noAdapter, normalArray, seededRandom, suiteName } from './support.js';

/**
 * Every op a LoRA training step uses, run on 'cpu' and on 'webgpu' with the same inputs.
 * Tolerance: normwise relative error max|gpu − cpu| / max|cpu| ≤ 1e-5 (float32 has ~6e-8 unit
 * roundoff; GPU and CPU sum in different orders and llvmpipe's exp/log/tanh differ in the last
 * bits from JavaScript's double-precision Math rounded to float32).
 */
const TOLERANCE = 1e-5;
const random = seededRandom(7);
const x = normalArray(6 * 10, random);
const y = normalArray(6 * 10, random);
const positive = x.map((v) => Math.abs(v) + 0.5);

const ops: Record<string, () => tf.Tensor[]> = {
  add: () => [tf.add(tf.tensor2d(x, [6, 10]), tf.tensor1d(y.subarray(0, 10)))],
  sub: () => [tf.sub(tf.tensor2d(x, [6, 10]), tf.tensor2d(y, [6, 10]))],
  mul: () => [tf.mul(tf.tensor2d(x, [6, 10]), tf.scalar(0.3))],
  div: () => [tf.div(tf.tensor2d(x, [6, 10]), tf.tensor2d(positive, [6, 10]))],
  relu: () => [tf.relu(tf.tensor2d(x, [6, 10]))],
  tanh: () => [tf.tanh(tf.tensor2d(x, [6, 10]))],
  exp: () => [tf.exp(tf.tensor2d(x, [6, 10]))],
  log: () => [tf.log(tf.tensor2d(positive, [6, 10]))],
  softmax: () => [tf.softmax(tf.tensor2d(x, [6, 10]))],
  logSoftmax: () => [tf.logSoftmax(tf.tensor2d(x, [6, 10]))],
  softmaxCrossEntropy: () => [tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d([1, 0, 9, 3, 3, 7], 'int32'), 10), tf.tensor2d(x, [6, 10]))],
  'sum/mean/max': () => {
    const t = tf.tensor2d(x, [6, 10]);
    return [tf.sum(t, 1), tf.mean(t, 0), tf.max(t, -1), tf.sum(t)];
  },
  'gather (embedding)': () => [tf.gather(tf.tensor2d(x, [6, 10]), tf.tensor1d([5, 0, 0, 3], 'int32'))],
  oneHot: () => [tf.oneHot(tf.tensor1d([0, 4, 2], 'int32'), 5)],
  concat: () => [tf.concat([tf.tensor2d(x, [6, 10]), tf.tensor2d(y, [6, 10])], 1)],
  slice: () => [tf.slice(tf.tensor2d(x, [6, 10]), [1, 2], [3, 5])],
  transpose: () => [tf.transpose(tf.tensor3d(x, [2, 3, 10]), [0, 2, 1])],
  reshape: () => [tf.reshape(tf.tensor2d(x, [6, 10]), [3, 20])],
  'moments (layer norm)': () => {
    const { mean, variance } = tf.moments(tf.tensor2d(x, [6, 10]), -1, true);
    return [mean, variance];
  },
  'unsortedSegmentSum (gather gradient)': () => [
    tf.unsortedSegmentSum(tf.tensor2d(x, [6, 10]), tf.tensor1d([2, 0, 2, 1, 0, 2], 'int32'), 4),
    tf.grad((table: tf.Tensor) => tf.gather(table, tf.tensor1d([1, 1, 3], 'int32')).sum())(tf.tensor2d(y.subarray(0, 40), [4, 10])),
  ],
  'dropout (seeded)': () => [tf.dropout(tf.tensor2d(x, [6, 10]), 0.25, undefined, 123)],
};

describe.skipIf(noAdapter)(suiteName, () => {
  for (const [name, build] of Object.entries(ops)) {
    it(`${name} matches cpu`, async () => {
      const { error } = await compareBackends(build);
      if (process.env.SHOW_ERRORS) console.log(`${name}: ${error.toExponential(2)}`);
      expect(error).toBeLessThanOrEqual(TOLERANCE);
    });
  }

  it('runs the training-step kernels on webgpu itself (WEBGPU_CPU_FORWARD=false, all registered)', async () => {
    expect(tf.env().getBool('WEBGPU_CPU_FORWARD')).toBe(false);
    await tf.setBackend('webgpu');
    const registered = new Set(tf.getKernelsForBackend('webgpu').map((kernel) => kernel.kernelName));
    const profile = await tf.profile(() => {
      const table = tf.variable(tf.tensor2d(x, [6, 10]));
      const ids = tf.tensor1d([1, 4, 4], 'int32');
      const { grads, value } = tf.variableGrads(() =>
        tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d([2, 3, 9], 'int32'), 10), tf.relu(tf.gather(table, ids))),
      );
      const optimizer = tf.train.adam(0.01);
      optimizer.applyGradients(Object.entries(grads).map(([name, tensor]) => ({ name, tensor })));
      optimizer.dispose();
      const out = value.clone();
      tf.dispose([table, ids, value, grads]);
      return out;
    });
    const ran = [...new Set(profile.kernelNames)];
    expect(ran).toContain('UnsortedSegmentSum');
    // `…__op` entries are tfjs customGrad wrappers (softmaxCrossEntropy), not kernels.
    const kernels = ran.filter((name) => !name.endsWith('__op'));
    expect(kernels.filter((name) => !registered.has(name))).toEqual([]);
  });
});
