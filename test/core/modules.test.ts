import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, test } from 'vitest';
import { createModel, Embedding, Linear, listSites, Mlp, Rng } from '@rankwise/core';
import { Activation, gelu, LayerNorm, Sequential } from '@rankwise/models';
import { useTestBackend } from '../helpers/backend.js';
import { maxAbsDiff, seededTensor, take, values } from '../helpers/numeric.js';

beforeAll(async () => {
  await useTestBackend();
});

describe('modules', () => {
  test('MLP sites carry path, shape, layer index and role; parameter names are unique per instance', () => {
    const a = new Mlp({ sizes: [784, 256, 256, 10] }, 0);
    const b = new Mlp({ sizes: [784, 256, 256, 10] }, 0);
    expect(listSites(a)).toEqual([
      { path: 'layers.0', inFeatures: 784, outFeatures: 256, layer: 0, role: 'hidden', adapted: false },
      { path: 'layers.1', inFeatures: 256, outFeatures: 256, layer: 1, role: 'hidden', adapted: false },
      { path: 'layers.2', inFeatures: 256, outFeatures: 10, layer: 2, role: 'head', adapted: false },
    ]);
    expect(a.namedParameters().map(([p]) => p)).toEqual([
      'layers.0.weight',
      'layers.0.bias',
      'layers.1.weight',
      'layers.1.bias',
      'layers.2.weight',
      'layers.2.bias',
    ]);
    const names = new Set([...a.parameters(), ...b.parameters()].map((v) => v.name));
    expect(names.size).toBe(12);
    a.dispose();
    b.dispose();
  });

  test('same seed ⇒ same weights; different seed ⇒ different; Linear init within ±1/sqrt(in)', async () => {
    const a = new Mlp({ sizes: [50, 20, 3] }, 9);
    const b = createModel('mlp', { sizes: [50, 20, 3] }, 9);
    const c = new Mlp({ sizes: [50, 20, 3] }, 10);
    const wa = await values(a.parameters()[0]);
    expect(maxAbsDiff(wa, await values(b.parameters()[0]))).toBe(0);
    expect(maxAbsDiff(wa, await values(c.parameters()[0]))).toBeGreaterThan(0);
    expect(Math.max(...wa.map(Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(50));
    [a, b, c].forEach((m) => m.dispose());
  });

  test('Linear on [B, T, C] equals the per-row matmul', async () => {
    const linear = new Linear(4, 3, new Rng(1));
    const x = seededTensor([2, 5, 4], 3);
    const y = await take(linear.forward(x));
    const ref = await take(tf.tidy(() => x.reshape([10, 4]).matMul(linear.weight).add(linear.bias!)));
    expect(maxAbsDiff(y, ref)).toBeLessThan(1e-6);
    x.dispose();
    linear.dispose();
  });

  test('LayerNorm matches the definition (1e-5) and Embedding gathers rows', async () => {
    const ln = new LayerNorm(6);
    const x = seededTensor([3, 6], 4, 3);
    const xv = await values(x);
    const y = await take(ln.forward(x));
    for (let r = 0; r < 3; r++) {
      const row = [...xv.slice(r * 6, r * 6 + 6)];
      const mean = row.reduce((s, v) => s + v, 0) / 6;
      const variance = row.reduce((s, v) => s + (v - mean) ** 2, 0) / 6;
      row.forEach((v, i) => expect(Math.abs(y[r * 6 + i] - (v - mean) / Math.sqrt(variance + 1e-5))).toBeLessThan(1e-5));
    }
    const emb = new Embedding(5, 2, new Rng(0));
    const table = await values(emb.weight);
    const ids = tf.tensor2d(
      [
        [4, 0],
        [1, 1],
      ],
      [2, 2],
      'int32',
    );
    const out = emb.forward(ids);
    expect(out.shape).toEqual([2, 2, 2]);
    expect([...(await take(out))]).toEqual([table[8], table[9], table[0], table[1], table[2], table[3], table[2], table[3]]);
    tf.dispose([x, ids]);
    ln.dispose();
    emb.dispose();
  });

  test('GELU (tanh form) matches the formula; Sequential chains its children', async () => {
    const x = tf.tensor1d([-3, -1, 0, 0.5, 2]);
    const y = await take(gelu(x));
    [-3, -1, 0, 0.5, 2].forEach((v, i) => {
      const ref = 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));
      expect(Math.abs(y[i] - ref)).toBeLessThan(1e-6);
    });
    const seq = new Sequential([new Linear(5, 4, new Rng(2)), new Activation('relu'), new Linear(4, 2, new Rng(3))]);
    const input = seededTensor([3, 5], 8);
    const out = await take(seq.forward(input));
    const ref = await take(seq.at(2).forward(tf.relu(seq.at(0).forward(input))));
    expect(maxAbsDiff(out, ref)).toBe(0);
    expect(listSites(seq).map((s) => s.path)).toEqual(['0', '2']);
    tf.dispose([x, input]);
    seq.dispose();
  });

  test('bad sizes and names are clear errors', () => {
    expect(() => new Mlp({ sizes: [4] }, 0)).toThrow('mlp sizes must be at least two positive integers, got [4]');
    expect(() => createModel('mlp', { sizes: [4, 2], activation: 'swish' }, 0)).toThrow('unknown activation "swish"; known: relu, gelu, tanh, identity');
    const m = new Mlp({ sizes: [4, 2] }, 0);
    expect(() => m.getSubmodule('layers.3')).toThrow('no module at "layers.3"; modules: layers, layers.0');
    m.dispose();
  });
});
