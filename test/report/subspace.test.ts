import { describe, expect, test } from 'vitest';
import { compareSubspaces, matmul, subspaceSimilarity, toRows, type Matrix } from '@rankwise/report';
import { randomMatrix } from './fixtures.js';
import { randomOrthonormal } from './helpers.js';

const all = (m: Matrix): number[] => Array.from(m.data);

describe('subspaceSimilarity φ(i, j) = ‖U1[:, :i]ᵀ U2[:, :j]‖²_F / min(i, j)', () => {
  test('an adapter against itself: 1 on the diagonal and everywhere (top-i ⊂ top-j), shape r1 × r2', () => {
    const a = randomMatrix(784, 8, 1);
    const phi = subspaceSimilarity(a, a);
    expect([phi.rows, phi.cols]).toEqual([8, 8]);
    for (let i = 0; i < 8; i++) expect(phi.data[i * 8 + i]).toBeCloseTo(1, 12);
    for (const v of all(phi)) expect(Math.abs(v - 1)).toBeLessThan(1e-12);
  });

  test('one direction at angle θ: φ(1, 1) = cos²θ exactly', () => {
    const theta = 0.3;
    const e1 = { rows: 5, cols: 1, data: Float64Array.from([1, 0, 0, 0, 0]) };
    const tilted = { rows: 5, cols: 1, data: Float64Array.from([Math.cos(theta), Math.sin(theta), 0, 0, 0]) };
    expect(subspaceSimilarity(e1, tilted).data[0]).toBeCloseTo(Math.cos(theta) ** 2, 14); // 0.912668…
    expect(subspaceSimilarity(e1, tilted).data[0]).toBeCloseTo(0.9126678, 6);
  });

  test('A (r = 4) inside the span of a larger A (r = 12) whose extra columns are weaker: φ(4, j ≥ 4) = 1', () => {
    const q = randomOrthonormal(256, 12, 4);
    const s = [9, 8, 7, 6, 1, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3];
    const a2 = { rows: 256, cols: 12, data: q.data.map((x, k) => x * s[k % 12]) };
    const a1 = { rows: 256, cols: 4, data: Float64Array.from({ length: 256 * 4 }, (_, k) => q.data[Math.floor(k / 4) * 12 + (k % 4)] * (1 + (k % 4))) };
    const phi = subspaceSimilarity(a1, a2);
    for (let j = 4; j <= 12; j++) expect(phi.data[3 * 12 + (j - 1)]).toBeCloseTo(1, 10);
    // φ(4, j < 4) = j/min(4, j) · … = 1 too: the top-j directions of a2 lie inside a1's span.
    for (let j = 1; j <= 3; j++) expect(phi.data[3 * 12 + (j - 1)]).toBeCloseTo(1, 10);
  });

  test('invariant to rotation and uniform scaling of A; the full-span row to any column scaling', () => {
    const a1 = randomMatrix(128, 6, 21);
    const a2 = randomMatrix(128, 10, 22);
    const base = all(subspaceSimilarity(a1, a2));
    const rotation = randomOrthonormal(6, 6, 23); // A → A·Q keeps the left singular vectors (up to sign)
    const rotated = all(subspaceSimilarity(matmul(a1, rotation), a2));
    rotated.forEach((v, k) => expect(Math.abs(v - base[k])).toBeLessThan(1e-10));
    const scaled = all(subspaceSimilarity({ ...a1, data: a1.data.map((x) => 3.7 * x) }, a2));
    scaled.forEach((v, k) => expect(Math.abs(v - base[k])).toBeLessThan(1e-10));
    // Column scaling reorders directions inside the span, so only φ(r1, ·) (the whole span of A1) is invariant.
    const columnScaled = all(subspaceSimilarity({ ...a1, data: a1.data.map((x, k) => x * (1 + (k % 6) * 2)) }, a2));
    for (let j = 0; j < 10; j++) expect(Math.abs(columnScaled[5 * 10 + j] - base[5 * 10 + j])).toBeLessThan(1e-10);
  });

  test('random independent subspaces give φ ≈ max(i, j) / in (E‖U1ᵀU2‖²_F = i·j / in)', () => {
    // in = 256, r1 = r2 = 8, 20 seeded pairs. φ(8, 8) has mean 8/256 = 0.03125 and a standard deviation of about
    // √(2·64)/256/8 ≈ 0.0055 per pair, so 0.0012 for the mean of 20: we allow 15 % (≈ 4 standard deviations).
    const inDim = 256;
    const sums = new Float64Array(64);
    let max = 0;
    for (let t = 0; t < 20; t++) {
      const phi = subspaceSimilarity(randomMatrix(inDim, 8, 1000 + t), randomMatrix(inDim, 8, 2000 + t));
      phi.data.forEach((v, k) => {
        sums[k] += v / 20;
        max = Math.max(max, v);
        expect(v).toBeGreaterThanOrEqual(0);
        expect(v).toBeLessThanOrEqual(1);
      });
    }
    expect(Math.abs(sums[63] - 8 / inDim) / (8 / inDim)).toBeLessThan(0.15);
    // Averaged over every (i, j) the ratio to max(i, j)/in is 1 within 15 %.
    let ratio = 0;
    for (let i = 1; i <= 8; i++) for (let j = 1; j <= 8; j++) ratio += sums[(i - 1) * 8 + (j - 1)] / (Math.max(i, j) / inDim) / 64;
    expect(Math.abs(ratio - 1)).toBeLessThan(0.15);
    expect(max).toBeLessThan(0.2);
  });

  test('compareSubspaces packages φ as rows for the report', () => {
    const c = compareSubspaces('layers.0', 'all layers', randomMatrix(64, 2, 5), randomMatrix(64, 3, 6));
    expect(c).toMatchObject({ site: 'layers.0', placement: 'all layers', r1: 2, r2: 3 });
    expect(c.phi.length).toBe(2);
    expect(c.phi[0].length).toBe(3);
    expect(toRows(subspaceSimilarity(randomMatrix(64, 2, 5), randomMatrix(64, 3, 6)))).toEqual(c.phi);
  });

  test('clear errors for mismatched or transposed factors', () => {
    expect(() => subspaceSimilarity(randomMatrix(64, 4, 1), randomMatrix(32, 4, 2))).toThrow(/share the input dimension/);
    expect(() => subspaceSimilarity(randomMatrix(4, 64, 1), randomMatrix(4, 64, 2))).toThrow(/rank 64 > input dimension 4/);
  });
});
