import * as tf from '@tensorflow/tfjs';

/**
 * Relative error of whole tensors: ‖a − b‖∞ / ‖b‖∞ (robust for outputs with entries near zero). Infinity when the
 * lengths differ or any value is NaN, so a broken result can never pass a tolerance.
 */
export function normRelativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return Number.isNaN(diff) || Number.isNaN(scale) ? Infinity : diff / Math.max(scale, 1e-30);
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

export async function values(t: tf.Tensor): Promise<Float32Array> {
  return Float32Array.from(await t.data());
}

/** Reads and disposes. */
export async function take(t: tf.Tensor): Promise<Float32Array> {
  const v = await values(t);
  t.dispose();
  return v;
}

/** Deterministic input data drawn from a seeded generator (not tf.random, whose seeding is per-call). */
export function seededTensor(shape: number[], seed: number, scale = 1): tf.Tensor {
  let s = seed >>> 0;
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = ((s / 4294967296) * 2 - 1) * scale;
  }
  return tf.tensor(data, shape);
}

export function seededLabels(n: number, classes: number, seed: number): tf.Tensor {
  let s = seed >>> 0;
  const data = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = s % classes;
  }
  return tf.tensor1d(data, 'int32');
}
