/**
 * Fused Adam / AdamW (provider's createAdam) against tf.train.adam on the cpu backend over 10 steps:
 * weights and moments agree to 1e-6 (max|native - cpu| / max|cpu| per tensor); tensors do not leak.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';

import type { AdamSpec } from '@rankwise/backend-native';
import { normRelativeError } from '../helpers/numeric.js';
import { native, randomArray, skipReason } from './helpers.js';

const TOL = 1e-6;
const shapes = [[300, 700], [17], [5, 3]];
const spec: AdamSpec = { learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, weightDecay: 0 };

interface RunResult {
  weights: Float32Array[];
  moments: Float32Array[];
}

let runId = 0;

/** 10 steps of `optimizer` on deterministic variables and gradients; returns final weights and m, v. */
async function run(backendName: string, makeOptimizer: () => tf.Optimizer, decayByHand = 0, steps = 10): Promise<RunResult> {
  await tf.setBackend(backendName);
  runId += 1;
  const vars = shapes.map((shape, i) =>
    tf.variable(
      tf.tensor(
        randomArray(
          shape.reduce((a, b) => a * b, 1),
          100 + i,
        ),
        shape,
      ),
      true,
      `adam${runId}_${i}`,
    ),
  );
  const baseline = tf.memory().numTensors;
  const optimizer = makeOptimizer();
  let afterFirst = 0;
  for (let step = 0; step < steps; step += 1) {
    if (decayByHand > 0) tf.tidy(() => vars.forEach((v) => v.assign(tf.sub(v, tf.mul(v, decayByHand)))));
    const grads = vars.map((v, i) => ({ name: v.name, tensor: tf.tensor(randomArray(v.size, 1000 * step + i, -2, 2), v.shape) }));
    optimizer.applyGradients(grads);
    tf.dispose(grads.map((g) => g.tensor));
    if (step === 0) afterFirst = tf.memory().numTensors;
  }
  // accBeta1/2 plus, from the first step, m and v per variable; later steps must not add tensors.
  expect(tf.memory().numTensors).toBe(afterFirst);
  expect(afterFirst - baseline).toBe(2 + 2 * vars.length);
  const named = await optimizer.getWeights();
  const moments = await Promise.all(named.slice(1).map(async (w) => (await w.tensor.data()) as Float32Array));
  const weights = await Promise.all(vars.map(async (v) => (await v.data()) as Float32Array));
  tf.dispose(named[0].tensor);
  optimizer.dispose();
  expect(tf.memory().numTensors).toBe(baseline);
  tf.dispose(vars);
  return { weights, moments };
}

function worst(a: RunResult, b: RunResult): number {
  const errs = [...a.weights.map((w, i) => normRelativeError(w, b.weights[i])), ...a.moments.map((m, i) => normRelativeError(m, b.moments[i]))];
  return Math.max(...errs);
}

describe.skipIf(skipReason !== '')(`fused native Adam ${skipReason}`, () => {
  const createAdam = native.ok ? native.createAdam : undefined;
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it('matches tf.train.adam (cpu backend) over 10 steps', async () => {
    const expected = await run('cpu', () => tf.train.adam(spec.learningRate, spec.beta1, spec.beta2, spec.epsilon));
    const actual = await run('native', () => createAdam!(spec));
    // Every intermediate is rounded to float32 in tfjs's order: on x86-64 the results are bit-identical.
    expect(worst(actual, expected)).toBeLessThan(TOL);
  });

  it('AdamW: decoupled decay (w -= lr * wd * w, then the Adam step) matches the same math in tf ops', async () => {
    const wd = 0.05;
    const expected = await run('cpu', () => tf.train.adam(spec.learningRate, spec.beta1, spec.beta2, spec.epsilon), spec.learningRate * wd);
    const actual = await run('native', () => createAdam!({ ...spec, weightDecay: wd }));
    expect(worst(actual, expected)).toBeLessThan(TOL);
  });

  it('falls back to tf ops (same result) when the active backend is not native', async () => {
    const expected = await run('cpu', () => tf.train.adam(spec.learningRate, spec.beta1, spec.beta2, spec.epsilon));
    const actual = await run('cpu', () => createAdam!(spec));
    expect(worst(actual, expected)).toBeLessThan(TOL);
  });

  it('getWeights / setWeights resume (to 1e-6: like tfjs, setWeights recomputes accBeta as beta^t)', async () => {
    await tf.setBackend('native');
    const v = tf.variable(tf.tensor(randomArray(64, 7), [8, 8]), true, 'adam_resume');
    const grad = (step: number) => [{ name: v.name, tensor: tf.tensor(randomArray(64, 50 + step), [8, 8]) }];
    const first = createAdam!(spec);
    for (let s = 0; s < 5; s += 1) tf.tidy(() => first.applyGradients(grad(s)));
    const saved = await first.getWeights();
    const second = createAdam!(spec);
    await second.setWeights(saved);
    for (let s = 5; s < 10; s += 1) tf.tidy(() => second.applyGradients(grad(s)));
    const resumed = (await v.data()) as Float32Array;
    tf.dispose(v);

    const w = tf.variable(tf.tensor(randomArray(64, 7), [8, 8]), true, 'adam_straight');
    const straight = createAdam!(spec);
    for (let s = 0; s < 10; s += 1) tf.tidy(() => straight.applyGradients([{ name: w.name, tensor: grad(s)[0].tensor }]));
    expect(normRelativeError(resumed, (await w.data()) as Float32Array)).toBeLessThan(TOL);
    [first, second, straight].forEach((o) => o.dispose());
    tf.dispose([w, saved[0].tensor]);
    await tf.setBackend('cpu');
  });

  it("never writes into the caller's array (tf.tensor keeps it as the tensor's storage)", async () => {
    await tf.setBackend('native');
    const mine = randomArray(16, 10);
    const copy = Float32Array.from(mine);
    const v = tf.tidy(() => tf.variable(tf.tensor(mine, [4, 4]), true, 'adam_user_array'));
    const optimizer = createAdam!(spec);
    for (let s = 0; s < 3; s += 1) tf.tidy(() => optimizer.applyGradients({ [v.name]: tf.ones([4, 4]) }));
    expect(Array.from(mine)).toEqual(Array.from(copy));
    expect(normRelativeError((await v.data()) as Float32Array, copy)).toBeGreaterThan(0);
    optimizer.dispose();
    v.dispose();
    await tf.setBackend('cpu');
  });

  it('never writes into a buffer shared with another tensor', async () => {
    await tf.setBackend('native');
    const initial = tf.tensor(randomArray(16, 9), [4, 4]);
    const v = tf.variable(initial, true, 'adam_shared'); // shares initial's buffer
    const before = Float32Array.from((await initial.data()) as Float32Array);
    const optimizer = createAdam!(spec);
    tf.tidy(() => optimizer.applyGradients({ [v.name]: tf.ones([4, 4]) }));
    expect(Array.from((await initial.data()) as Float32Array)).toEqual(Array.from(before));
    expect(normRelativeError((await v.data()) as Float32Array, before)).toBeGreaterThan(0);
    optimizer.dispose();
    tf.dispose([v, initial]);
    await tf.setBackend('cpu');
  });
});
