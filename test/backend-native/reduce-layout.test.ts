/** Reductions, softmax, transpose, gather and segment sums on 'native' against the cpu kernels (< 1e-5). */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';

import { nativeFallbackCounts } from '@rankwise/backend-native';
import { compareBackends, rand, runOn, skipReason } from './helpers.js';

const TOL = 1e-5;

describe.skipIf(skipReason !== '')(`native reductions and layout kernels ${skipReason}`, () => {
  const axesCases: Array<[number[], number | number[] | undefined, boolean]> = [
    [[7, 1031], -1, false],
    [[4096, 128], 0, false],
    [[6, 5, 4], 1, true],
    [[6, 5, 4], [0, 1], false],
    [[6, 5, 4], undefined, false],
    [[3, 1, 4], [0, 1], true],
    [[6, 5, 4], [0, 2], false],
    [[2, 300, 700], [1, 2], false],
  ];

  it('Sum, Mean, Max, Min, Prod over inner, outer, middle, all and non-contiguous axes', async () => {
    const ops: Array<[string, (x: tf.Tensor, axis: number | number[] | undefined, keep: boolean) => tf.Tensor]> = [
      ['Sum', tf.sum],
      ['Mean', tf.mean],
      ['Max', tf.max],
      ['Min', tf.min],
      ['Prod', tf.prod],
    ];
    for (const [name, f] of ops) {
      for (const [shape, axis, keep] of axesCases) {
        const lo = name === 'Prod' ? 0.9 : -2;
        const hi = name === 'Prod' ? 1.1 : 2;
        const err = await compareBackends(() => f(rand(shape, 51, lo, hi), axis, keep));
        expect(err, `${name} ${JSON.stringify(shape)} axis ${JSON.stringify(axis)}`).toBeLessThan(TOL);
      }
    }
  });

  it('Max propagates NaN like the cpu kernel', async () => {
    const err = await compareBackends(() => tf.max(tf.tensor2d([1, NaN, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [2, 6]), 1));
    expect(err).toBe(0);
  });

  it('Softmax (and its gradient), logSoftmax', async () => {
    const before = nativeFallbackCounts().Softmax ?? 0;
    for (const shape of [[13, 77], [2, 3, 128], [5]]) {
      const err = await compareBackends(() => {
        const x = rand(shape, 61, -8, 8);
        const [g] = tf.grads((t: tf.Tensor) => tf.sum(tf.mul(tf.softmax(t), rand(shape, 62))))([x]);
        return [tf.softmax(x), tf.logSoftmax(x), g];
      });
      expect(err, JSON.stringify(shape)).toBeLessThan(TOL);
    }
    expect(nativeFallbackCounts().Softmax ?? 0).toBe(before);
  });

  it('Transpose: float32 and int32, with size-1 dims and merged runs', async () => {
    const cases: Array<[number[], number[]]> = [
      [
        [2, 3, 4, 5],
        [0, 2, 1, 3],
      ],
      [
        [2, 3, 4, 5],
        [3, 2, 1, 0],
      ],
      [
        [67, 129],
        [1, 0],
      ],
      [
        [4, 1, 6],
        [2, 1, 0],
      ],
      [
        [32, 128, 3, 4, 32],
        [2, 0, 3, 1, 4],
      ],
      [
        [5, 7],
        [0, 1],
      ],
    ];
    const before = nativeFallbackCounts().Transpose ?? 0;
    for (const [shape, perm] of cases) {
      const err = await compareBackends(() => [tf.transpose(rand(shape, 71), perm), tf.transpose(tf.cast(rand(shape, 72, 0, 100), 'int32'), perm)]);
      expect(err, `${shape} perm ${perm}`).toBe(0);
    }
    expect(nativeFallbackCounts().Transpose ?? 0).toBe(before);
  });

  it('GatherV2 on axes 0 and 1, 2-D indices, int32 params, and its gradient (UnsortedSegmentSum)', async () => {
    const err = await compareBackends(() => {
      const table = rand([96, 16], 81);
      const idx = tf.tensor1d([3, 0, 95, 3, 17, 3], 'int32');
      const idx2 = tf.tensor2d([1, 2, 0, 2], [2, 2], 'int32');
      const [g] = tf.grads((t: tf.Tensor) => tf.sum(tf.mul(tf.gather(t, idx), rand([6, 16], 82))))([table]);
      return [tf.gather(table, idx), tf.gather(rand([4, 3, 5], 83), idx2, 1), tf.gather(tf.tensor1d([5, 6, 7], 'int32'), idx2), g];
    });
    expect(err).toBeLessThan(TOL);
  });

  it('GatherV2 with an out-of-range index throws like the cpu kernel', async () => {
    await expect(runOn('native', () => tf.gather(tf.ones([4, 2]), tf.tensor1d([0, 4], 'int32')))).rejects.toThrow(
      /GatherV2: the index value 4 is not in \[0, 3\]/,
    );
    await tf.setBackend('cpu');
  });

  it('arrays returned by data() stay valid after dispose, when their buffers are reused', async () => {
    await tf.setBackend('native');
    const a = tf.add(tf.ones([64, 64]), 1);
    const values = (await a.data()) as Float32Array;
    a.dispose();
    for (let i = 0; i < 4; i += 1) tf.dispose(tf.add(tf.ones([64, 64]), 5 + i)); // reuses a's buffer
    expect(values.every((v) => v === 2)).toBe(true);
    await tf.setBackend('cpu');
  });

  it('Concat along every axis, with empty inputs, float32 and int32', async () => {
    const before = nativeFallbackCounts().Concat ?? 0;
    const err = await compareBackends(() => [
      tf.concat([rand([1, 32, 4, 8], 101), rand([2, 32, 4, 8], 102), rand([1, 32, 4, 8], 103)], 0),
      tf.concat([rand([3, 2, 5], 104), rand([3, 7, 5], 105)], 1),
      tf.concat([rand([3, 2, 5], 106), rand([3, 2, 0], 107), rand([3, 2, 1], 108)], -1),
      tf.concat([tf.tensor2d([1, 2, 3, 4], [2, 2], 'int32'), tf.tensor2d([5, 6], [2, 1], 'int32')], 1),
    ]);
    expect(err).toBe(0);
    expect(nativeFallbackCounts().Concat ?? 0).toBe(before);
  });

  it('slices that are views of a pooled buffer keep it from being reused', async () => {
    await tf.setBackend('native');
    const source = tf.add(tf.ones([8, 512]), 1); // pooled buffer
    const view = tf.slice(source, [2, 0], [3, 512]); // tfjs's cpu Slice returns a subarray view
    source.dispose();
    for (let i = 0; i < 4; i += 1) tf.dispose(tf.add(tf.ones([8, 512]), 7 + i)); // same length as source
    expect(((await view.data()) as Float32Array).every((v) => v === 2)).toBe(true);
    view.dispose();
    await tf.setBackend('cpu');
  });

  it('UnsortedSegmentSum with repeated, missing and out-of-range ids', async () => {
    const err = await compareBackends(() => tf.unsortedSegmentSum(rand([9, 7, 3], 91), tf.tensor1d([0, 2, 2, 5, 0, 4, 4, 4, 7], 'int32'), 6));
    expect(err).toBeLessThan(TOL);
  });
});
