/** Unary and broadcasting binary kernels on 'native' against the cpu kernels (relative error < 1e-5). */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';

import { nativeFallbackCounts } from '@rankwise/backend-native';
import { compareBackends, rand, randomArray, skipReason } from './helpers.js';

const TOL = 1e-5;
const specials = [0, -0, 1e-30, -1e-30, 1e-8, 0.5, -0.5, 3, -3, 20, -20, 88, 89, -88, -104, -110, NaN, Infinity, -Infinity];

function withSpecials(size: number, seed: number, lo: number, hi: number): tf.Tensor {
  const values = randomArray(size, seed, lo, hi);
  values.set(specials.slice(0, Math.min(specials.length, size)));
  return tf.tensor(values, [size]);
}

type Unary = (x: tf.Tensor) => tf.Tensor;
const unary: Array<[string, Unary, number, number]> = [
  ['Neg', tf.neg, -5, 5],
  ['Abs', tf.abs, -5, 5],
  ['Square', tf.square, -5, 5],
  ['Sqrt', tf.sqrt, 0, 50],
  ['Rsqrt', tf.rsqrt, 0.01, 50],
  ['Reciprocal', tf.reciprocal, -5, 5],
  ['Exp', tf.exp, -90, 90],
  ['Log', tf.log, 0, 1e4],
  ['Tanh', tf.tanh, -12, 12],
  ['Sigmoid', tf.sigmoid, -30, 30],
  ['Relu', tf.relu, -5, 5],
  ['Relu6', tf.relu6, -3, 9],
  ['LeakyRelu', (x) => tf.leakyRelu(x, 0.13), -5, 5],
  ['Step', (x) => tf.step(x, 0.25), -5, 5],
  ['Elu', tf.elu, -8, 8],
  ['Erf', tf.erf, -4, 4],
  ['Softplus', tf.softplus, -30, 30],
];

describe.skipIf(skipReason !== '')(`native element-wise kernels ${skipReason}`, () => {
  it('unary kernels on small, odd-sized and threaded sizes, with special values', async () => {
    for (const [name, f, lo, hi] of unary) {
      const before = nativeFallbackCounts()[name] ?? 0;
      for (const size of [1, 7, 1031, 210_001]) {
        const err = await compareBackends(() => f(withSpecials(size, size + 3, lo, hi)));
        expect(err, `${name} size ${size}`).toBeLessThan(TOL);
      }
      expect(nativeFallbackCounts()[name] ?? 0, `${name} fell back`).toBe(before);
    }
  });

  it('unary kernels keep the shape of rank-3 inputs', async () => {
    const err = await compareBackends(() => [tf.tanh(rand([3, 5, 7], 1)), tf.exp(rand([2, 1, 9], 2))]);
    expect(err).toBeLessThan(TOL);
  });

  type Binary = (a: tf.Tensor, b: tf.Tensor) => tf.Tensor;
  const binary: Array<[string, Binary]> = [
    ['Add', tf.add],
    ['Sub', tf.sub],
    ['Multiply', tf.mul],
    ['RealDiv', tf.div],
    ['Maximum', tf.maximum],
    ['Minimum', tf.minimum],
    ['SquaredDifference', tf.squaredDifference],
    ['Prelu', tf.prelu],
  ];
  const shapes: Array<[number[], number[]]> = [
    [[1031], [1031]],
    [
      [5, 1, 7],
      [3, 1],
    ],
    [[], [4, 6]],
    [[4, 6], []],
    [[2, 3, 4], [4]],
    [
      [4, 1],
      [1, 5],
    ],
    [
      [2, 1, 3, 1],
      [1, 4, 1, 5],
    ],
    [[256, 1024], [1024]],
    [
      [300, 700],
      [300, 700],
    ],
    [
      [64, 1],
      [64, 512],
    ],
  ];

  it('binary kernels with every broadcast pattern', async () => {
    for (const [name, f] of binary) {
      const before = nativeFallbackCounts()[name] ?? 0;
      for (const [aShape, bShape] of shapes) {
        if (name === 'Prelu' && bShape.length > aShape.length) continue;
        const err = await compareBackends(() => f(rand(aShape, 21, -3, 3), rand(bShape, 22, 0.5, 3)));
        expect(err, `${name} ${JSON.stringify(aShape)} ${JSON.stringify(bShape)}`).toBeLessThan(TOL);
      }
      expect(nativeFallbackCounts()[name] ?? 0, `${name} fell back`).toBe(before);
    }
  });

  it('Pow: scalar exponents (x^3 of GELU, x^2 of gradients) and element-wise exponents', async () => {
    for (const exponent of [3, 2, 1, 0.5, -1, 2.5, 0]) {
      const err = await compareBackends(() => tf.pow(rand([33, 65], 31, -4, 4), tf.scalar(exponent)));
      expect(err, `x^${exponent}`).toBeLessThan(TOL);
    }
    const err = await compareBackends(() => tf.pow(rand([40, 50], 32, 0.1, 4), rand([50], 33, -3, 3)));
    expect(err).toBeLessThan(TOL);
  });

  it('float32 tensors stored as Int32Array / Uint8Array (casts without a copy) and int32 fallbacks', async () => {
    const err = await compareBackends(() => {
      const asFloat = tf.cast(tf.tensor1d([1, 2, 3, 4], 'int32'), 'float32');
      const fromBool = tf.cast(tf.tensor1d([1, 0, 1, 1], 'bool'), 'float32');
      return [tf.add(asFloat, fromBool), tf.mul(asFloat, 0.5), tf.exp(fromBool), tf.add(tf.tensor1d([1, 2], 'int32'), tf.tensor1d([3, 4], 'int32'))];
    });
    expect(err).toBeLessThan(TOL);
  });

  it('gradients through the element-wise kernels (GELU tanh, softplus, prelu)', async () => {
    const err = await compareBackends(() => {
      const x = rand([17, 33], 41, -3, 3);
      const gelu = (t: tf.Tensor) =>
        tf.sum(tf.mul(tf.mul(0.5, t), tf.add(1, tf.tanh(tf.mul(Math.sqrt(2 / Math.PI), tf.add(t, tf.mul(0.044715, tf.pow(t, 3))))))));
      const [g1] = tf.grads(gelu)([x]);
      const [g2] = tf.grads((t: tf.Tensor) => tf.sum(tf.softplus(t)))([x]);
      const [g3, g4] = tf.grads((t: tf.Tensor, a: tf.Tensor) => tf.sum(tf.prelu(t, a)))([x, rand([33], 42, 0, 0.3)]);
      return [g1, g2, g3, g4];
    });
    expect(err).toBeLessThan(TOL);
  });
});
