/**
 * Conv2D, Conv2DBackpropFilter, Conv2DBackpropInput (im2col + sgemm) and MaxPoolGrad on 'native' against tfjs's cpu
 * kernels: outputs and both gradients over strides, padding modes, kernel sizes and channel counts, to 1e-5 of each
 * tensor's largest value (sums reassociated by BLAS). No tensor leaks (runOn checks).
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';

import { normRelativeError } from '../helpers/numeric.js';
import { randomArray, relativeError, runOn, skipReason } from './helpers.js';

const TOL = 1e-5;

const convCases: Array<{ name: string; x: [number, number, number, number]; k: [number, number, number, number]; stride: number; pad: 'valid' | 'same' }> = [
  { name: '3×3 valid', x: [2, 9, 8, 3], k: [3, 3, 3, 4], stride: 1, pad: 'valid' },
  { name: '3×3 same stride 2', x: [2, 9, 9, 2], k: [3, 3, 2, 5], stride: 2, pad: 'same' },
  { name: '5×5 valid stride 2, one channel', x: [3, 28, 28, 1], k: [5, 5, 1, 8], stride: 2, pad: 'valid' },
  { name: '2×2 same stride 2 (odd size)', x: [1, 7, 7, 3], k: [2, 2, 3, 2], stride: 2, pad: 'same' },
  { name: '1×1', x: [2, 5, 6, 4], k: [1, 1, 4, 3], stride: 1, pad: 'valid' },
];

describe.skipIf(skipReason !== '')('native convolution and max-pool gradients', () => {
  it.each(convCases)('conv2d $name: y, dL/dx, dL/dW agree with cpu', async ({ x, k, stride, pad }) => {
    const compute = () => {
      const xs = tf.tensor4d(
        randomArray(
          x.reduce((a, b) => a * b, 1),
          1,
        ),
        x,
      );
      const ks = tf.tensor4d(
        randomArray(
          k.reduce((a, b) => a * b, 1),
          2,
        ),
        k,
      );
      const y = tf.conv2d(xs, ks, stride, pad);
      const weights = tf.tensor(randomArray(y.size, 3), y.shape); // a non-uniform dL/dy
      const f = (a: tf.Tensor, b: tf.Tensor) =>
        tf
          .conv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, pad)
          .mul(weights)
          .sum();
      const [dx, dw] = tf.grads(f)([xs, ks]);
      tf.dispose([xs, ks, weights]);
      return [y, dx, dw];
    };
    const cpu = await runOn('cpu', compute);
    const nat = await runOn('native', compute);
    cpu.forEach((c, i) => {
      expect(nat[i].shape).toEqual(c.shape);
      expect(normRelativeError(nat[i].values, c.values), ['y', 'dx', 'dW'][i]).toBeLessThan(TOL);
    });
  });

  it.each([
    { x: [2, 10, 10, 3] as [number, number, number, number], size: 2, stride: 2, pad: 'valid' as const },
    { x: [1, 7, 7, 2] as [number, number, number, number], size: 3, stride: 2, pad: 'same' as const },
  ])('max-pool $size×$size stride $stride $pad: dL/dx agrees with cpu exactly', async ({ x, size, stride, pad }) => {
    const compute = () => {
      const xs = tf.tensor4d(
        randomArray(
          x.reduce((a, b) => a * b, 1),
          4,
        ),
        x,
      );
      const g = tf.grad((a: tf.Tensor) =>
        tf
          .maxPool(a as tf.Tensor4D, size, stride, pad)
          .square()
          .sum(),
      )(xs);
      xs.dispose();
      return g;
    };
    const [cpu] = await runOn('cpu', compute);
    const [nat] = await runOn('native', compute);
    expect(relativeError(nat.values, cpu.values)).toBe(0); // the same arg-max, the same single product per element
  });
});
