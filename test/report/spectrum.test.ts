import { describe, expect, test } from 'vitest';
import { amplificationFactor, analyzeLoraSite, analyzeSite, loraDelta, matmul, spectrum, svd, transpose, type Matrix } from '@rankwise/report';
import { randomMatrix } from './fixtures.js';
import { compose, known, randomOrthonormal } from './helpers.js';

describe('spectrum', () => {
  test('k equal singular values: effective rank k, top-r share r/k, ‖ΔW‖_F = √k', () => {
    const sp = spectrum(known(40, 30, [1, 1, 1, 1, 1], 3), 2);
    expect(sp.effectiveRank).toBeCloseTo(5, 9);
    expect(sp.topShare).toBeCloseTo(2 / 5, 12);
    expect(sp.frobenius).toBeCloseTo(Math.sqrt(5), 12);
    expect(sp.singularValues.length).toBe(30);
    expect(sp.singularValues.slice(0, 5).every((x) => Math.abs(x - 1) < 1e-12)).toBe(true);
  });

  test('σ = (3, 2, 1): effective rank exp(H(1/2, 1/3, 1/6)) = 2.7495, top-1 share 9/14, top-2 share 13/14', () => {
    const delta = known(20, 10, [3, 2, 1], 7);
    const h = 0.5 * Math.log(2) + Math.log(3) / 3 + Math.log(6) / 6;
    expect(spectrum(delta).effectiveRank).toBeCloseTo(Math.exp(h), 10);
    expect(spectrum(delta).effectiveRank).toBeCloseTo(2.7495, 4);
    expect(spectrum(delta).topShare).toBeNull();
    expect(spectrum(delta, 1).topShare).toBeCloseTo(9 / 14, 12); // a squared share: 0.642857…
    expect(spectrum(delta, 2).topShare).toBeCloseTo(13 / 14, 12);
    expect(spectrum(delta, 3).topShare).toBeCloseTo(1, 12);
    expect(spectrum(delta).frobenius).toBeCloseTo(Math.sqrt(14), 12);
  });

  test('keeps the top 64 singular values; zero update; bad r', () => {
    expect(spectrum(randomMatrix(100, 80, 1)).singularValues.length).toBe(64);
    expect(spectrum({ rows: 3, cols: 3, data: new Float64Array(9) }, 1)).toEqual({ singularValues: [0, 0, 0], effectiveRank: 0, topShare: 0, frobenius: 0 });
    expect(() => spectrum(randomMatrix(5, 4, 1), 5)).toThrow(/r = 5 must be an integer in 1..4/);
    expect(() => spectrum(randomMatrix(5, 4, 1), 0)).toThrow(/r = 0/);
  });
});

describe('amplificationFactor ‖ΔW‖_F / ‖UᵀWV‖_F', () => {
  test('W with a known block C inside ΔW’s top-2 subspace: factor = ‖s‖ / ‖C‖_F = 5 / √0.1425 = 13.2453', () => {
    const [m, n, extra] = [30, 20, 5];
    const uFull = randomOrthonormal(m, 2 + extra, 31);
    const vFull = randomOrthonormal(n, 2 + extra, 32);
    const take2 = (q: Matrix): Matrix => ({
      rows: q.rows,
      cols: 2,
      data: Float64Array.from({ length: q.rows * 2 }, (_, k) => q.data[Math.floor(k / 2) * q.cols + (k % 2)]),
    });
    const delta = compose(take2(uFull), [4, 3], take2(vFull));
    // W = U_full · K · V_fullᵀ with K's top-left 2×2 block C; the rest of K lies outside ΔW's subspace.
    const k = randomMatrix(2 + extra, 2 + extra, 33, 0.5);
    const c = [0.1, 0.2, -0.05, 0.3];
    [0, 1, 2 + extra, 3 + extra].forEach((idx, t) => (k.data[idx] = c[t]));
    const w = matmul(matmul(uFull, k), transpose(vFull)); // U_full [m, 7] · K [7, 7] · V_fullᵀ [7, n] → [m, n]
    const amp = amplificationFactor(delta, w, 2);
    expect(amp.deltaNorm).toBeCloseTo(5, 12);
    expect(amp.projectedNorm).toBeCloseTo(Math.sqrt(0.1425), 12); // 0.377492
    expect(amp.factor).toBeCloseTo(13.2453, 4);
  });

  test('ΔW = c × the top-r part of W gives factor c', () => {
    const w = known(40, 24, [10, 6, 3, 1, 0.5, 0.2], 41);
    const delta = compose(randomOrthonormal(40, 6, 41), [10 * 2.5, 6 * 2.5, 0, 0, 0, 0], randomOrthonormal(24, 6, 42));
    expect(amplificationFactor(delta, w, 2).factor).toBeCloseTo(2.5, 10);
    expect(amplificationFactor(delta, w, 2, svd(delta))).toEqual(amplificationFactor(delta, w, 2)); // a precomputed SVD is the same SVD
    expect(() => amplificationFactor(delta, w, 2, svd(known(24, 40, [1], 5)))).toThrow(/precomputed SVD/);
  });

  test('validates shapes and r; ΔW = 0 gives 0', () => {
    expect(() => amplificationFactor(randomMatrix(5, 4, 1), randomMatrix(4, 5, 2), 1)).toThrow(/same shape and layout \[in, out\]/);
    expect(() => amplificationFactor(randomMatrix(5, 4, 1), randomMatrix(5, 4, 2), 7)).toThrow(/r = 7/);
    expect(amplificationFactor({ rows: 2, cols: 2, data: new Float64Array(4) }, randomMatrix(2, 2, 1), 1).factor).toBe(0);
  });
});

describe('site analyses from LoRA factors', () => {
  test('loraDelta is (α/r)·A·B; analyzeSite fills spectrum (top-r share 1 for a rank-r update) and amplification', () => {
    const a = randomMatrix(64, 4, 1);
    const b = randomMatrix(4, 32, 2, 0.1);
    const delta = loraDelta(a, b, 16 / 4);
    let direct = 0;
    for (let q = 0; q < 4; q++) direct += a.data[3 * 4 + q] * b.data[q * 32 + 5];
    expect(delta.data[3 * 32 + 5]).toBeCloseTo(4 * direct, 12);
    const site = analyzeSite({ site: 'layers.0', placement: 'first layer', rank: 4, delta, w: randomMatrix(64, 32, 3) });
    expect(site.spectrum.topShare).toBeCloseTo(1, 12);
    expect(site.spectrum.singularValues.filter((x) => x > 1e-9).length).toBe(4);
    expect(site.spectrum.effectiveRank).toBeGreaterThan(1);
    expect(site.spectrum.effectiveRank).toBeLessThanOrEqual(4);
    expect(site.amplification?.factor).toBeGreaterThan(0);
    const full = analyzeSite({ site: 'layers.0', placement: 'full fine-tuning', rank: null, delta: randomMatrix(64, 32, 4) });
    expect(full.spectrum.topShare).toBeNull();
    expect(full.amplification).toBeNull();
    expect(() => loraDelta(a, randomMatrix(3, 32, 2), 1)).toThrow(/ranks differ/);
  });

  test('analyzeLoraSite (the r×r core from thin QRs of A and Bᵀ) matches analyzeSite on the formed ΔW', () => {
    const a = randomMatrix(64, 4, 1);
    const b = randomMatrix(4, 32, 2, 0.1);
    const w = randomMatrix(64, 32, 3);
    const reduced = analyzeLoraSite({ site: 'layers.0', placement: 'first layer', a, b, scaling: 4, w });
    const formed = analyzeSite({ site: 'layers.0', placement: 'first layer', rank: 4, delta: loraDelta(a, b, 4), w });
    expect(reduced.rank).toBe(4);
    expect(reduced.spectrum.singularValues).toHaveLength(4);
    reduced.spectrum.singularValues.forEach((x, i) => expect(x).toBeCloseTo(formed.spectrum.singularValues[i], 10));
    expect(reduced.spectrum.effectiveRank).toBeCloseTo(formed.spectrum.effectiveRank, 10);
    expect(reduced.spectrum.topShare).toBeCloseTo(1, 12);
    expect(reduced.spectrum.frobenius).toBeCloseTo(formed.spectrum.frobenius, 10);
    expect(reduced.amplification?.factor).toBeCloseTo(formed.amplification?.factor as number, 8);
    expect(reduced.amplification?.projectedNorm).toBeCloseTo(formed.amplification?.projectedNorm as number, 10);
    expect(analyzeLoraSite({ site: 'layers.0', placement: 'first layer', a, b, scaling: 4 }).amplification).toBeNull();
    expect(() => analyzeLoraSite({ site: 's', placement: 'p', a, b: randomMatrix(3, 32, 2), scaling: 1 })).toThrow(/ranks differ/);
    expect(() => analyzeLoraSite({ site: 's', placement: 'p', a, b, scaling: 1, w: randomMatrix(32, 64, 3) })).toThrow(/layout \[in, out\]/);
  });
});
