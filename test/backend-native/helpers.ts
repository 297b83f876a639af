/** Shared helpers for the native backend tests: start once, run the same computation on cpu and native, compare. */
import * as tf from '@tensorflow/tfjs';

import { startNativeBackend } from '@rankwise/backend-native';

/** Started once per test file, when this module loads (then back to cpu), for describe.skipIf. */
export const native = await startNativeBackend();
await tf.setBackend('cpu');
export const skipReason = native.ok ? '' : `native backend unavailable: ${native.reason}`;
if (!native.ok) {
  // CI installs OpenBLAS and sets this, so a broken native build fails instead of skipping.
  if (process.env.RANKWISE_REQUIRE_NATIVE === '1') throw new Error(`RANKWISE_REQUIRE_NATIVE=1 but ${skipReason}`);
  console.warn(`[backend-native tests] skipping: ${skipReason}`);
}

/** Deterministic pseudo-random floats in [lo, hi). */
export function randomArray(size: number, seed: number, lo = -1, hi = 1): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(size);
  for (let i = 0; i < size; i += 1) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = lo + ((s >>> 0) / 4294967296) * (hi - lo);
  }
  return out;
}

/**
 * Element-wise relative error: max_i |a_i - e_i| / max(|e_i|, floor), floor = 1e-3 * max|e|
 * (entries much smaller than the tensor's scale are compared against that scale). NaN/Inf must match.
 */
export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) return Infinity;
  let scale = 0;
  for (let i = 0; i < expected.length; i += 1) if (Number.isFinite(expected[i])) scale = Math.max(scale, Math.abs(expected[i]));
  const floor = Math.max(scale * 1e-3, 1e-30);
  let worst = 0;
  for (let i = 0; i < expected.length; i += 1) {
    const a = actual[i];
    const e = expected[i];
    if (!Number.isFinite(e) || !Number.isFinite(a)) {
      if (!(Object.is(a, e) || (Number.isNaN(a) && Number.isNaN(e)))) return Infinity;
      continue;
    }
    worst = Math.max(worst, Math.abs(a - e) / Math.max(Math.abs(e), floor));
  }
  return worst;
}

export interface Evaluated {
  shape: number[];
  dtype: string;
  values: Float32Array | Int32Array | Uint8Array;
}

/** Runs `fn` on a backend and reads every output with `await data()`; checks no tensor leaked. */
export async function runOn(backendName: string, fn: () => tf.Tensor | tf.Tensor[]): Promise<Evaluated[]> {
  await tf.setBackend(backendName);
  const before = tf.memory().numTensors;
  const outputs = tf.tidy(fn);
  const list = Array.isArray(outputs) ? outputs : [outputs];
  const evaluated: Evaluated[] = [];
  for (const t of list) {
    evaluated.push({ shape: t.shape.slice(), dtype: t.dtype, values: (await t.data()) as Float32Array | Int32Array | Uint8Array });
  }
  tf.dispose(list);
  const after = tf.memory().numTensors;
  if (after !== before) throw new Error(`${backendName}: ${after - before} tensors leaked`);
  return evaluated;
}

/** The same computation on cpu and native: shapes and dtypes must match; returns the worst relative error. */
export async function compareBackends(fn: () => tf.Tensor | tf.Tensor[], metric = relativeError): Promise<number> {
  const expected = await runOn('cpu', fn);
  const actual = await runOn('native', fn);
  await tf.setBackend('cpu');
  let worst = 0;
  expected.forEach((e, i) => {
    const a = actual[i];
    if (JSON.stringify(a.shape) !== JSON.stringify(e.shape) || a.dtype !== e.dtype) {
      throw new Error(`output ${i}: native ${a.dtype}[${a.shape}] vs cpu ${e.dtype}[${e.shape}]`);
    }
    worst = Math.max(worst, metric(a.values, e.values));
  });
  return worst;
}

/** Tensor from deterministic random values (created on the current backend). */
export function rand(shape: number[], seed: number, lo = -1, hi = 1): tf.Tensor {
  return tf.tensor(
    randomArray(
      shape.reduce((a, b) => a * b, 1),
      seed,
      lo,
      hi,
    ),
    shape,
    'float32',
  );
}
