import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { normRelativeError } from '../helpers/numeric.js';
import { compareBackends, noAdapter, normalArray, seededRandom, suiteName } from './support.js';

/**
 * tfjs-backend-webgpu's own AddN binds every input to one shader; past 7 inputs (8 storage
 * buffers with the output) it returned wrong values. The backend registers a chunked AddN instead.
 * GPU and CPU add in the same left-to-right order, so 1e-6 (normwise) is ample.
 */
const TOLERANCE = 1e-6;
const SHAPE = [5, 9];
const random = seededRandom(11);
const values = Array.from({ length: 20 }, () => normalArray(5 * 9, random));

function addNOf(count: number): () => tf.Tensor[] {
  return () => [tf.addN(values.slice(0, count).map((v) => tf.tensor(v, SHAPE)))];
}

describe.skipIf(noAdapter)(suiteName, () => {
  for (const count of [2, 7, 8, 13, 14, 20]) {
    it(`addN of ${count} tensors matches cpu`, async () => {
      const { error, cpu } = await compareBackends(addNOf(count));
      // Guards against a degenerate (near-zero) cpu result, against which any error would look small.
      expect(Math.max(...cpu[0].map(Math.abs))).toBeGreaterThan(0.1);
      expect(error).toBeLessThanOrEqual(TOLERANCE);
    });
  }

  it('addN of 20 tensors leaves no tensor or GPU buffer behind', async () => {
    expect(await tf.setBackend('webgpu')).toBe(true);
    const inputs = values.map((v) => tf.tensor(v, SHAPE));
    const tensorsBefore = tf.memory().numTensors;
    const dataIdsBefore = tf.backend().numDataIds();
    const sum = tf.addN(inputs);
    const got = Float32Array.from(await sum.data());
    sum.dispose();
    // float32, added left to right as both backends do.
    const expected = values.reduce((acc, v) => acc.map((a, i) => Math.fround(a + v[i])), new Float32Array(values[0].length));
    expect(normRelativeError(got, expected)).toBeLessThanOrEqual(TOLERANCE);
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    expect(tf.backend().numDataIds()).toBe(dataIdsBefore);
    tf.dispose(inputs);
  });
});
