import { describe, expect, test } from 'vitest';
import { singularValues, svd, type Matrix } from '@rankwise/report';
import { randomMatrix } from './fixtures.js';
import { compose, known, orthonormalityError, relativeFrobeniusError } from './helpers.js';

function geometric(k: number, top: number, ratio: number): number[] {
  return Array.from({ length: k }, (_, i) => top * ratio ** i);
}

// Tolerances: singular values to 1e-6 relative — with the (exact) zeros of rank-deficient input checked absolutely,
// ≤ 1e-12·σ₁ — reconstruction ‖U S Vᵀ − M‖_F / ‖M‖_F < 1e-4 (float64 gives ~1e-13), orthonormal columns to 1e-10.
const cases: Array<{ name: string; m: number; n: number; s: number[] }> = [
  { name: 'tall 60×12', m: 60, n: 12, s: geometric(12, 5, 0.7) },
  { name: 'wide 10×50', m: 10, n: 50, s: [9, 7, 3, 2.5, 1, 0.5, 0.2, 0.1, 0.01, 0.001] },
  { name: 'square 40×40', m: 40, n: 40, s: geometric(40, 100, 0.8) },
  { name: 'LoRA A 784×8', m: 784, n: 8, s: [3.1, 2.9, 2.2, 1.7, 1.2, 0.9, 0.45, 0.3] },
  { name: 'LoRA ΔW 784×256 of rank 8', m: 784, n: 256, s: [12, 10, 7, 5, 3, 2, 1, 0.5] },
  { name: 'repeated singular values 30×20', m: 30, n: 20, s: [4, 4, 4, 2, 2, 1, 1, 1, 1, 0.5] },
];

describe('svd on matrices with known spectra', () => {
  test.each(cases)('$name', ({ m, n, s }) => {
    const a = known(m, n, s, 11 * m + n);
    const k = Math.min(m, n);
    const r = svd(a);
    expect(r.u.rows).toBe(m);
    expect(r.u.cols).toBe(k);
    expect(r.v.rows).toBe(n);
    expect(r.v.cols).toBe(k);
    expect(r.s.length).toBe(k);
    const expected = [...s, ...Array(k - s.length).fill(0)];
    for (let i = 0; i < k; i++) {
      if (expected[i] === 0) expect(r.s[i]).toBeLessThanOrEqual(1e-12 * s[0]);
      else expect(Math.abs(r.s[i] - expected[i]) / expected[i]).toBeLessThan(1e-6);
    }
    for (let i = 1; i < k; i++) expect(r.s[i]).toBeLessThanOrEqual(r.s[i - 1]);
    expect(relativeFrobeniusError(compose(r.u, r.s, r.v), a)).toBeLessThan(1e-4);
    expect(orthonormalityError(r.u)).toBeLessThan(1e-10);
    expect(orthonormalityError(r.v)).toBeLessThan(1e-10);
    expect(Array.from(singularValues(a))).toEqual(Array.from(r.s));
  });

  test('a rank-3 100×30 matrix: 27 zeros, still complete orthonormal bases', () => {
    const a = known(100, 30, [5, 2, 1], 3);
    const r = svd(a);
    expect(Array.from(r.s.subarray(0, 3)).map((x) => Number(x.toFixed(9)))).toEqual([5, 2, 1]);
    expect(Math.max(...r.s.subarray(3))).toBeLessThan(1e-12);
    expect(orthonormalityError(r.u)).toBeLessThan(1e-10);
    expect(orthonormalityError(r.v)).toBeLessThan(1e-10);
    expect(relativeFrobeniusError(compose(r.u, r.s, r.v), a)).toBeLessThan(1e-12);
  });

  test('the zero matrix and a single entry', () => {
    const zero = svd({ rows: 5, cols: 3, data: new Float64Array(15) });
    expect(Array.from(zero.s)).toEqual([0, 0, 0]);
    expect(orthonormalityError(zero.u)).toBeLessThan(1e-12);
    expect(orthonormalityError(zero.v)).toBeLessThan(1e-12);
    const one = svd({ rows: 1, cols: 1, data: new Float32Array([-3]) });
    expect(one.s[0]).toBe(3);
    expect(one.u.data[0] * one.v.data[0]).toBe(-1);
  });

  test('float32 input, huge and tiny scales', () => {
    const base = known(50, 20, geometric(20, 1, 0.75), 8);
    for (const scale of [1e-30, 1, 1e30]) {
      const a: Matrix = { rows: 50, cols: 20, data: base.data.map((x) => x * scale) };
      const r = svd(a);
      geometric(20, scale, 0.75).forEach((x, i) => expect(Math.abs(r.s[i] - x) / x).toBeLessThan(1e-6));
    }
    const f32: Matrix = { rows: 50, cols: 20, data: Float32Array.from(base.data) };
    const r32 = svd(f32);
    // float32 storage perturbs entries by ≤ 6e-8 relative: the top singular values move by far less than 1e-5.
    geometric(5, 1, 0.75).forEach((x, i) => expect(Math.abs(r32.s[i] - x) / x).toBeLessThan(1e-5));
    expect(relativeFrobeniusError(compose(r32.u, r32.s, r32.v), { ...f32, data: Float64Array.from(f32.data) })).toBeLessThan(1e-6);
  });

  test('full-rank 256×256 random matrix in well under a second or two', () => {
    const a = randomMatrix(256, 256, 42);
    const t0 = performance.now();
    const r = svd(a);
    const ms = performance.now() - t0;
    expect(relativeFrobeniusError(compose(r.u, r.s, r.v), a)).toBeLessThan(1e-10);
    expect(orthonormalityError(r.u)).toBeLessThan(1e-10);
    expect(ms).toBeLessThan(5000); // ~0.8 s here
  });

  test('rejects malformed matrices with clear errors', () => {
    expect(() => svd({ rows: 2, cols: 3, data: new Float64Array(5) })).toThrow(/5 values but the shape 2×3 needs 6/);
    expect(() => svd({ rows: 0, cols: 3, data: new Float64Array(0) })).toThrow(/positive integers/);
    expect(() => svd({ rows: 1, cols: 2, data: new Float64Array([1, Number.NaN]) })).toThrow(/not finite/);
  });
});
