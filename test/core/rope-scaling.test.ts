import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, test } from 'vitest';
import type { LlamaConfig } from '@rankwise/core';
import { checkRopeScaling, gemmaEmbeddingScale, RotaryEmbedding, ropeFrequencies } from '@rankwise/models';
import { useTestBackend } from '../helpers/backend.js';
import { familyReference } from '../hf/family-fixtures.js';

beforeAll(async () => {
  await useTestBackend();
});

/** Largest relative difference of two arrays, elementwise. */
const relative = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.abs(b[i]));
  return a.length === b.length ? worst : Infinity;
};

describe('rope schedules as transformers computes them (inv_freq and attention factor from the committed script)', () => {
  test.each(
    familyReference.rope.map(
      (c, i) =>
        [
          i,
          c.config.rope_scaling === null ? 'none' : String(c.config.rope_scaling.rope_type ?? c.config.rope_scaling.type),
          c.config.head_dim,
          c.seqLen,
          c,
        ] as const,
    ),
  )('case %i: %s, head_dim %i, seq_len %i', (_i, _kind, _hd, _len, c) => {
    const scaling = checkRopeScaling(c.config.rope_scaling as never);
    const f = ropeFrequencies({
      headDim: c.config.head_dim,
      theta: c.config.rope_theta,
      maxPositions: c.config.max_position_embeddings,
      scaling,
      originalMaxPositions: c.config.original_max_position_embeddings ?? null,
    });
    expect(f.rotaryDim).toBe(c.rotaryDim);
    expect(relative(f.invFreq(c.seqLen), c.invFreq)).toBeLessThan(1e-12);
    expect(f.attentionFactor).toBeCloseTo(c.attentionFactor, 14);
  });

  test('longrope switches from short_factor to long_factor beyond original_max_position_embeddings', () => {
    const cases = familyReference.rope.filter(
      (c) => c.config.rope_scaling?.rope_type === 'longrope' && c.config.original_max_position_embeddings !== undefined,
    );
    expect(cases.length).toBeGreaterThanOrEqual(2);
    const [within, beyond] = cases;
    expect(within.seqLen).toBeLessThanOrEqual(within.config.original_max_position_embeddings!);
    expect(beyond.seqLen).toBeGreaterThan(beyond.config.original_max_position_embeddings!);
    expect(relative(beyond.invFreq, within.invFreq)).toBeGreaterThan(0.1);
  });

  test('dynamic NTK only departs from the default schedule beyond max_position_embeddings', () => {
    const cases = familyReference.rope.filter((c) => c.config.rope_scaling?.type === 'dynamic');
    expect(cases.length).toBeGreaterThanOrEqual(2);
    const long = cases.find((c) => c.seqLen > c.config.max_position_embeddings)!;
    const plain = cases.find((c) => c.seqLen === c.config.max_position_embeddings && c.config.head_dim === long.config.head_dim)!;
    expect(relative(long.invFreq, plain.invFreq)).toBeGreaterThan(0.01);
  });
});

describe('rope_scaling validation', () => {
  test.each([
    [{ rope_type: 'ntk', factor: 2 }, '/rope_scaling/rope_type: found "ntk", allowed: "default", "linear", "dynamic", "yarn", "llama3", "longrope"'],
    [
      { rope_type: 'longrope', short_factor: [1, 0], long_factor: [1, 2] },
      '/rope_scaling/short_factor: found [1,0], allowed: rotary dimension / 2 positive numbers',
    ],
    [{ type: 'su' }, '/rope_scaling/type: found "su"'],
    [{ rope_type: 'llama3', factor: 8 }, '/rope_scaling/low_freq_factor: missing'],
    [
      { rope_type: 'llama3', factor: 8, low_freq_factor: 4, high_freq_factor: 1, original_max_position_embeddings: 8192 },
      '/rope_scaling/high_freq_factor: found 1, allowed: a number above low_freq_factor (4)',
    ],
    [{ rope_type: 'linear', factor: -2 }, '/rope_scaling/factor: found -2, allowed: a positive number'],
    [{ rope_type: 'linear', factor: 2, beta_fast: 3 }, '/rope_scaling/beta_fast: rope type "linear" does not take "beta_fast"'],
    [{ rope_type: 'yarn', type: 'linear', factor: 2 }, '/rope_scaling/type: found "linear" beside rope_type "yarn"'],
    [{ rope_type: 'yarn', factor: 2, truncate: 'no' }, '/rope_scaling/truncate: found "no", allowed: true or false'],
    ['linear', '/rope_scaling: found "linear", allowed: null or an object'],
  ])('%j is refused', (scaling, message) => {
    expect(() => checkRopeScaling(scaling as never)).toThrow(message);
  });
});

describe('rotary embedding with a schedule', () => {
  test('partial rotation leaves the pass-through dimensions unchanged; the attention factor scales the rotated ones', () => {
    const frequencies = { rotaryDim: 4, attentionFactor: 1.5, invFreq: () => Float64Array.from([1, 0.1]) };
    const rope = new RotaryEmbedding(8, 10000, frequencies);
    const x = tf.tensor4d(
      Float32Array.from({ length: 2 * 8 }, (_, i) => i + 1),
      [1, 1, 2, 8],
    );
    const y = tf.tidy(() => rope.apply(x).arraySync() as number[][][][]);
    x.dispose();
    const [p0, p1] = y[0][0];
    // position 0: angle 0, so the rotated part is x · 1.5 and the rest is x
    expect(p0).toEqual([1.5, 3, 4.5, 6, 5, 6, 7, 8]);
    // position 1: pairs (j, j + 2) of the first 4 dimensions rotate by angles 1 and 0.1
    const [a, b, c, d] = [9, 10, 11, 12];
    const expected = [
      a * Math.cos(1) - c * Math.sin(1),
      b * Math.cos(0.1) - d * Math.sin(0.1),
      c * Math.cos(1) + a * Math.sin(1),
      d * Math.cos(0.1) + b * Math.sin(0.1),
    ].map((v) => v * 1.5);
    for (let j = 0; j < 4; j++) expect(p1[j]).toBeCloseTo(expected[j], 4);
    expect(p1.slice(4)).toEqual([13, 14, 15, 16]);
  });
});

describe('Gemma embedding scale: sqrt(hidden_size) in the checkpoint dtype', () => {
  const config = (hidden: number, dtype?: string) =>
    ({ hidden_size: hidden, hf_extra: dtype === undefined ? {} : { torch_dtype: dtype } }) as unknown as LlamaConfig;
  test.each([
    [3072, 'bfloat16', 55.5], // transformers' own example: sqrt(3072) = 55.4256 becomes 55.5
    [2304, 'bfloat16', 48],
    [3584, 'bfloat16', 59.75],
    [40, 'bfloat16', 6.3125],
    [3072, 'float16', 55.4375],
    [3072, 'float32', Math.fround(Math.sqrt(3072))],
    [3072, undefined, Math.fround(Math.sqrt(3072))],
  ])('hidden %i in %s → %f', (hidden, dtype, expected) => {
    expect(gemmaEmbeddingScale(config(hidden, dtype))).toBe(expected);
  });
});
