/**
 * BatchMatMul and _FusedMatMul on 'native' against tfjs's cpu kernels: shapes/dtypes equal, no tensor
 * leaked, no silent fallback, and relative error below 1e-5 measured against the output's scale,
 * max|native - cpu| / max|cpu| (sums of products cancel, so an entry-wise relative error would be
 * meaningless for entries near zero; sgemm and tfjs also accumulate in different orders).
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';

import { nativeFallbackCounts } from '@rankwise/backend-native';
import { normRelativeError } from '../helpers/numeric.js';
import { compareBackends, rand, skipReason } from './helpers.js';

const TOL = 1e-5;

function fallbacks(name: string): number {
  return nativeFallbackCounts()[name] ?? 0;
}

describe.skipIf(skipReason !== '')(`native BatchMatMul / _FusedMatMul ${skipReason}`, () => {
  it('2-D products with every transpose combination', async () => {
    const before = fallbacks('BatchMatMul');
    for (const [ta, tb] of [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ]) {
      const err = await compareBackends(() => {
        const a = rand(ta ? [53, 37] : [37, 53], 1);
        const b = rand(tb ? [29, 53] : [53, 29], 2);
        return tf.matMul(a, b, ta, tb);
      }, normRelativeError);
      expect(err, `transposeA=${ta} transposeB=${tb}`).toBeLessThan(TOL);
    }
    expect(fallbacks('BatchMatMul')).toBe(before);
  });

  it('one-row products (decode steps: cblas_sgemv, columns split over the pool) with every transpose combination', async () => {
    const before = fallbacks('BatchMatMul');
    for (const n of [7, 3000]) {
      for (const [ta, tb] of [
        [false, false],
        [true, false],
        [false, true],
        [true, true],
      ]) {
        const err = await compareBackends(() => tf.matMul(rand(ta ? [300, 1] : [1, 300], 7), rand(tb ? [n, 300] : [300, n], 8), ta, tb), normRelativeError);
        expect(err, `n=${n} transposeA=${ta} transposeB=${tb}`).toBeLessThan(TOL);
      }
    }
    const fused = await compareBackends(
      () => tf.fused.matMul({ a: rand([1, 300], 9), b: rand([300, 3000], 10), bias: rand([3000], 11), activation: 'relu' }),
      normRelativeError,
    );
    expect(fused).toBeLessThan(TOL);
    expect(fallbacks('BatchMatMul')).toBe(before);
  });

  it('batched and batch-broadcast products (rank 3 and 4, transposed)', async () => {
    const cases: Array<[number[], number[], boolean, boolean]> = [
      [[3, 17, 23], [3, 23, 11], false, false],
      [[4, 2, 17, 23], [23, 11], false, false],
      [[1, 17, 23], [5, 23, 11], false, false],
      [[5, 23, 17], [1, 11, 23], true, true],
      [[2, 3, 4, 5], [3, 5, 6], false, false],
      [[2, 4, 8, 16], [2, 4, 8, 16], false, true],
      [[2, 4, 8, 16], [2, 4, 8, 16], true, false],
    ];
    for (const [aShape, bShape, ta, tb] of cases) {
      const err = await compareBackends(() => tf.matMul(rand(aShape, 3), rand(bShape, 4), ta, tb), normRelativeError);
      expect(err, `${aShape} x ${bShape}`).toBeLessThan(TOL);
    }
  });

  it('large products split across threads by rows and by columns', async () => {
    const cases: Array<[number[], number[], boolean, boolean]> = [
      [[256, 300], [300, 200], false, false],
      [[300, 256], [200, 300], true, true],
      [[64, 300], [300, 512], false, false],
      [[300, 64], [512, 300], true, true],
      [[64, 300], [512, 300], false, true],
    ];
    for (const [aShape, bShape, ta, tb] of cases) {
      const err = await compareBackends(() => tf.matMul(rand(aShape, 5), rand(bShape, 6), ta, tb), normRelativeError);
      expect(err, `${aShape} x ${bShape}`).toBeLessThan(TOL);
    }
  });

  it('int32 products fall back to the cpu kernel', async () => {
    const err = await compareBackends(
      () => tf.matMul(tf.tensor2d([1, 2, 3, 4], [2, 2], 'int32'), tf.tensor2d([5, 6, 7, 8], [2, 2], 'int32')),
      normRelativeError,
    );
    expect(err).toBe(0);
  });

  it('fused matMul: bias shapes and every activation', async () => {
    const before = fallbacks('_FusedMatMul');
    const activations = ['linear', 'relu', 'relu6', 'elu', 'sigmoid', 'leakyrelu', 'prelu'] as const;
    for (const activation of activations) {
      for (const [biasShape, ta, tb] of [
        [[19], false, false],
        [[31, 19], true, false],
        [[1, 19], false, true],
      ] as const) {
        const err = await compareBackends(() => {
          const a = rand(ta ? [41, 31] : [31, 41], 7);
          const b = rand(tb ? [19, 41] : [41, 19], 8);
          return tf.fused.matMul({
            a,
            b,
            transposeA: ta,
            transposeB: tb,
            bias: rand([...biasShape], 9),
            activation,
            preluActivationWeights: activation === 'prelu' ? rand([19], 10, 0, 0.5) : undefined,
            leakyreluAlpha: 0.15,
          });
        }, normRelativeError);
        expect(err, `${activation} bias ${biasShape}`).toBeLessThan(TOL);
      }
    }
    expect(fallbacks('_FusedMatMul')).toBe(before);
  });

  it('fused matMul gradients match', async () => {
    const err = await compareBackends(() => {
      const a = rand([6, 5], 11);
      const b = rand([5, 4], 12);
      const bias = rand([4], 13);
      const f = (x: tf.Tensor, w: tf.Tensor, c: tf.Tensor) =>
        tf.sum(tf.fused.matMul({ a: x as tf.Tensor2D, b: w as tf.Tensor2D, bias: c, activation: 'relu' }));
      return tf.grads(f)([a, b, bias]);
    }, normRelativeError);
    expect(err).toBeLessThan(TOL);
  });
});
