import * as tf from '@tensorflow/tfjs';
import { beforeAll, expect, test } from 'vitest';
import { activeBackend } from '@rankwise/core';
import { createOptimizer, type OptimizerSpec } from '@rankwise/core/training';
import { useTestBackend } from '../helpers/backend.js';
import { values } from '../helpers/numeric.js';

beforeAll(async () => {
  await useTestBackend();
});

/**
 * The schedule reaches every optimizer: two steps with the same gradient g = [1, −2, 4] at lr 0.1, then lr 0.01
 * (what the training loop's setLearningRate does between steps); returns w after each step, from w₀ = 0.
 */
async function twoSteps(spec: OptimizerSpec, fastAdam = false): Promise<number[][]> {
  const before = tf.memory().numTensors;
  const w = tf.tidy(() => tf.variable(tf.zeros([3]), true, `schedule-${spec.name}-${before}-${fastAdam}`));
  const g = tf.tensor1d([1, -2, 4]);
  const scheduled = createOptimizer(spec, fastAdam ? activeBackend()?.createAdam : undefined);
  const after: number[][] = [];
  for (const lr of [0.1, 0.01]) {
    scheduled.setLearningRate(lr);
    scheduled.optimizer.applyGradients({ [w.name]: g });
    after.push([...(await values(w))]);
  }
  scheduled.optimizer.dispose();
  tf.dispose([w, g]);
  expect(tf.memory().numTensors).toBe(before);
  return after;
}

/** digits 6: |Δ| < 5e-7 (SGD's products are exact but for float32 rounding); 5 for Adam's √ and division. */
const close = (actual: number[], expected: number[], digits = 6) => actual.forEach((v, i) => expect(v).toBeCloseTo(expected[i], digits));

test('SGD follows the schedule: w₂ = −(0.1 + 0.01)·g (tfjs caches −lr in a tensor that setLearningRate must renew)', async () => {
  const [w1, w2] = await twoSteps({ name: 'sgd', lr: 0.1 });
  close(w1, [-0.1, 0.2, -0.4]);
  close(w2, [-0.11, 0.22, -0.44]);
});

test('momentum SGD follows the schedule: a₂ = 0.9·g + g, w₂ = w₁ − 0.01·a₂', async () => {
  const [w1, w2] = await twoSteps({ name: 'sgd', lr: 0.1, momentum: 0.9 });
  close(w1, [-0.1, 0.2, -0.4]);
  close(w2, [-0.1 - 0.019, 0.2 + 0.038, -0.4 - 0.076]);
});

test('SGD with LoRA+ groups follows the schedule too', async () => {
  // A 1-D parameter is in PEFT's fast group (with lora_B): lr·4 = 0.4, then 0.04.
  const [w1, w2] = await twoSteps({ name: 'sgd', lr: 0.1, loraPlusRatio: 4 });
  close(w1, [-0.4, 0.8, -1.6]);
  close(w2, [-0.44, 0.88, -1.76]);
});

test.each([false, true])('Adam follows the schedule (fast Adam: %s): the second step is a tenth of the first', async (fast) => {
  // Adam's first two steps with a constant gradient are each ≈ lr·sign(g) (m̂/√v̂ = 1).
  const [w1, w2] = await twoSteps({ name: 'adam', lr: 0.1 }, fast);
  close(w1, [-0.1, 0.1, -0.1], 5);
  close(w2, [-0.11, 0.11, -0.11], 5);
});
