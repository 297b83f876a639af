import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, test } from 'vitest';
import { Llama } from '@rankwise/core';
import { maskedSoftmaxCrossEntropy, sparseSoftmaxCrossEntropy } from '@rankwise/core/training';
import { useTestBackend } from '../helpers/backend.js';
import { maxAbsDiff, take } from '../helpers/numeric.js';

beforeAll(async () => {
  await useTestBackend();
});

const CONFIG = {
  vocab_size: 50,
  hidden_size: 32,
  intermediate_size: 48,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  max_position_embeddings: 64,
  context: 32,
  rope_theta: 10000,
};
const ids = (n: number, seed: number) => Int32Array.from({ length: n }, (_, i) => (i * 7 + seed * 13 + 3) % 50);

describe('Llama forward with packed position ids (padding-free packing)', () => {
  test('two sequences packed into one row give the logits each gives alone; padding changes no real position', async () => {
    const model = new Llama(CONFIG, 1);
    const a = ids(7, 1);
    const b = ids(5, 2);
    const alone = async (x: Int32Array) => take(model.forward(tf.tensor2d(x, [1, x.length], 'int32')));
    const [la, lb] = [await alone(a), await alone(b)];
    const before = tf.memory().numTensors;
    // row 0: a | b | 2 pad tokens (position 0 each); row 1: b | a | pad pad
    const row = (x: Int32Array, y: Int32Array) => [...x, ...y, 0, 0];
    const positions = (x: Int32Array, y: Int32Array) => [...x.keys(), ...y.keys(), 0, 0];
    const packedIds = tf.tensor2d([...row(a, b), ...row(b, a)], [2, 14], 'int32');
    const packed = await take(model.forward(packedIds, Int32Array.from([...positions(a, b), ...positions(b, a)])));
    packedIds.dispose();
    expect(tf.memory().numTensors).toBe(before);
    const v = 50;
    const slice = (row: number, from: number, n: number) => packed.subarray((row * 14 + from) * v, (row * 14 + from + n) * v);
    expect(maxAbsDiff(slice(0, 0, 7), la)).toBeLessThan(1e-5);
    expect(maxAbsDiff(slice(0, 7, 5), lb)).toBeLessThan(1e-5);
    expect(maxAbsDiff(slice(1, 0, 5), lb)).toBeLessThan(1e-5);
    expect(maxAbsDiff(slice(1, 5, 7), la)).toBeLessThan(1e-5);
    // without position ids the second sequence reads the first (the check can fail)
    const joined = await alone(Int32Array.from([...a, ...b]));
    expect(maxAbsDiff(joined.subarray(7 * v, 12 * v), lb)).toBeGreaterThan(1e-3);
    // right padding: real positions are unchanged without any mask (causal attention never reads later tokens)
    const padded = await alone(Int32Array.from([...b, 0, 0, 0]));
    expect(maxAbsDiff(padded.subarray(0, 5 * v), lb)).toBeLessThan(1e-5);
    model.dispose();
  });

  test('masked cross-entropy: mean over labels other than −100, equal to the loss of the kept rows alone; none kept gives 0', async () => {
    tf.engine().startScope();
    const logits = tf.tensor3d(
      Array.from({ length: 2 * 3 * 5 }, (_, i) => Math.sin(i)),
      [2, 3, 5],
    );
    const labels = tf.tensor2d([1, -100, 4, -100, 0, -100], [2, 3], 'int32');
    const kept = tf.tensor2d([
      Array.from({ length: 5 }, (_, i) => Math.sin(i)),
      Array.from({ length: 5 }, (_, i) => Math.sin(10 + i)),
      Array.from({ length: 5 }, (_, i) => Math.sin(20 + i)),
    ]);
    const masked = (await maskedSoftmaxCrossEntropy(logits, labels).data())[0];
    const direct = (await sparseSoftmaxCrossEntropy(kept, tf.tensor1d([1, 4, 0], 'int32')).data())[0];
    expect(Math.abs(masked - direct)).toBeLessThan(1e-6);
    expect(Math.abs((await maskedSoftmaxCrossEntropy(logits, tf.fill([2, 3], -100, 'int32')).data())[0])).toBe(0);
    // gradients reach only the kept rows
    const grad = await take(tf.grad((l: tf.Tensor) => maskedSoftmaxCrossEntropy(l, labels))(logits));
    expect(Math.max(...grad.subarray(5, 10).map(Math.abs))).toBe(0);
    expect(Math.max(...grad.subarray(0, 5).map(Math.abs))).toBeGreaterThan(0.01);
    tf.engine().endScope();
  });
});
