import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { compareBackends, noAdapter, normalArray, seededRandom, suiteName } from './support.js';

/**
 * matMul on webgpu vs the tfjs cpu backend. Tolerance: normwise relative error
 * max|gpu − cpu| / max|cpu| ≤ 1e-5. Elementwise relative error is not meaningful for dot products
 * whose terms cancel (a result near 0 carries the rounding of its large terms); normwise is the
 * float32 bound that holds for K up to a few hundred (observed ≈1e-7).
 */
const TOLERANCE = 1e-5;
const random = seededRandom(42);
const int = (low: number, high: number) => low + Math.floor(random() * (high - low + 1));

interface Case {
  batch: number[];
  m: number;
  k: number;
  n: number;
  transposeA: boolean;
  transposeB: boolean;
  /** Give B a batch of 1 so it broadcasts over A's batch. */
  broadcastB: boolean;
}

function label(c: Case): string {
  const a = [...c.batch, ...(c.transposeA ? [c.k, c.m] : [c.m, c.k])];
  const b = [...(c.broadcastB ? c.batch.map(() => 1) : c.batch), ...(c.transposeB ? [c.n, c.k] : [c.k, c.n])];
  return `[${a}]${c.transposeA ? 'ᵀ' : ''} × [${b}]${c.transposeB ? 'ᵀ' : ''}`;
}

function build(c: Case): () => tf.Tensor[] {
  const shapeA = [...c.batch, ...(c.transposeA ? [c.k, c.m] : [c.m, c.k])];
  const shapeB = [...(c.broadcastB ? c.batch.map(() => 1) : c.batch), ...(c.transposeB ? [c.n, c.k] : [c.k, c.n])];
  const a = normalArray(
    shapeA.reduce((p, d) => p * d, 1),
    random,
  );
  const b = normalArray(
    shapeB.reduce((p, d) => p * d, 1),
    random,
  );
  return () => [tf.matMul(tf.tensor(a, shapeA), tf.tensor(b, shapeB), c.transposeA, c.transposeB)];
}

const cases: Case[] = [
  { batch: [], m: 512, k: 512, n: 512, transposeA: false, transposeB: false, broadcastB: false },
  { batch: [], m: 1, k: 1, n: 1, transposeA: false, transposeB: false, broadcastB: false },
];
for (let i = 0; i < 10; i++) {
  const rank = int(0, 2);
  cases.push({
    batch: Array.from({ length: rank }, () => int(1, 4)),
    m: int(1, 96),
    k: int(1, 160),
    n: int(1, 96),
    transposeA: random() < 0.5,
    transposeB: random() < 0.5,
    broadcastB: rank > 0 && random() < 0.3,
  });
}

describe.skipIf(noAdapter)(suiteName, () => {
  for (const c of cases) {
    const run = build(c);
    it(`matMul ${label(c)} matches cpu`, async () => {
      const { error, gpu } = await compareBackends(run);
      expect(gpu[0].length).toBe(c.batch.reduce((p, d) => p * d, 1) * c.m * c.n);
      expect(error).toBeLessThanOrEqual(TOLERANCE);
    });
  }

  it('leaves no tensors behind', async () => {
    await tf.setBackend('webgpu');
    const before = tf.memory().numTensors;
    await compareBackends(build(cases[2]));
    await tf.setBackend('webgpu');
    expect(tf.memory().numTensors).toBe(before);
  });
});
