import { assertMatrix, type Matrix } from '../linalg/matrix.js';
import { singularValues } from '../linalg/svd.js';

export const SPECTRUM_TOP = 64;

export interface Spectrum {
  /** The largest singular values of ΔW, descending (at most 64). */
  singularValues: number[];
  /** exp(H(p)) with p_i = σ_i / Σσ (Roy & Vetterli 2007): k equal singular values give k; 0 for ΔW = 0. */
  effectiveRank: number;
  /**
   * Σ_{i≤r} σ_i² / Σ σ_i²: the share of ‖ΔW‖²_F (squared Frobenius norm, i.e. of the "energy") in the top r
   * directions, in [0, 1]. A squared share: 0.9 here means the top r directions hold 0.9 of ‖ΔW‖²_F, √0.9 of ‖ΔW‖_F.
   * null when r is not given; 0 for ΔW = 0.
   */
  topShare: number | null;
  /** ‖ΔW‖_F = √Σσ_i². */
  frobenius: number;
}

/** Spectrum of a weight update ΔW (any layout): top singular values, effective rank, top-r energy share, norm. */
export function spectrum(delta: Matrix, r?: number): Spectrum {
  checkSpectrumArgs(delta, r);
  return spectrumFromValues(singularValues(delta), r);
}

/** Throws unless `delta` is a well-formed matrix and r (when given) is an integer in 1..min(rows, cols). */
export function checkSpectrumArgs(delta: Matrix, r: number | undefined): void {
  assertMatrix(delta, 'spectrum delta');
  const k = Math.min(delta.rows, delta.cols);
  if (r !== undefined && (!Number.isInteger(r) || r < 1 || r > k)) {
    throw new RangeError(`spectrum: r = ${r} must be an integer in 1..${k} (min of the ${delta.rows}×${delta.cols} shape)`);
  }
}

/**
 * The spectrum from all min(rows, cols) singular values of ΔW, descending (e.g. an `Svd`'s `s` already computed for
 * the amplification factor); r as in `spectrum`, checked by the caller.
 */
export function spectrumFromValues(s: Float64Array, r?: number): Spectrum {
  let sum = 0;
  let sumSq = 0;
  for (const x of s) {
    sum += x;
    sumSq += x * x;
  }
  let entropy = 0;
  if (sum > 0) {
    for (const x of s) {
      const p = x / sum;
      if (p > 0) entropy -= p * Math.log(p);
    }
  }
  let topShare: number | null = null;
  if (r !== undefined) {
    let top = 0;
    for (let i = 0; i < r; i++) top += s[i] * s[i];
    topShare = sumSq > 0 ? Math.min(1, top / sumSq) : 0;
  }
  return {
    singularValues: Array.from(s.subarray(0, SPECTRUM_TOP)),
    effectiveRank: sum > 0 ? Math.exp(entropy) : 0,
    topShare,
    frobenius: Math.sqrt(sumSq),
  };
}
