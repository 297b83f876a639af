import { assertMatrix, matmul, scale, toRows, transpose, type Matrix } from '../linalg/matrix.js';
import { thinQr } from '../linalg/thin-qr.js';
import type { SiteAnalysis, SubspaceComparison } from '../types.js';
import { svd } from '../linalg/svd.js';
import { amplificationFactor, type Amplification } from './amplification.js';
import { checkSpectrumArgs, spectrum, spectrumFromValues, type Spectrum } from './spectrum.js';
import { subspaceSimilarity } from './subspace.js';

/**
 * ΔW = scale · A · B in float64 for LoRA factors A: [in, r], B: [r, out] (rankwise layout; scale = α / r).
 * Forming it in float64 keeps it numerically rank ≤ r, which lets the SVD reduce it to an r-column problem.
 */
export function loraDelta(a: Matrix, b: Matrix, scaleFactor: number): Matrix {
  assertMatrix(a, 'loraDelta A');
  assertMatrix(b, 'loraDelta B');
  if (a.cols !== b.rows) throw new RangeError(`loraDelta: A is ${a.rows}×${a.cols} ([in, r]) but B is ${b.rows}×${b.cols} ([r, out]): ranks differ`);
  if (!Number.isFinite(scaleFactor)) throw new RangeError(`loraDelta: scale ${scaleFactor} is not finite`);
  return scale(matmul(a, b), scaleFactor);
}

export interface SiteInput {
  site: string;
  placement: string;
  /** LoRA rank; null for full fine-tuning. */
  rank: number | null;
  /** The weight update, [in, out]. */
  delta: Matrix;
  /** The base weight W (same layout), for the amplification factor. */
  w?: Matrix;
  /** r of the top-r share and the amplification factor; defaults to `rank` (give it for full fine-tuning, e.g. the largest grid rank). */
  r?: number;
}

/** Spectrum (with top-r share) and, when W is given, the amplification factor of one site's ΔW. */
export function analyzeSite(input: SiteInput): SiteAnalysis {
  const r = input.r ?? input.rank ?? undefined;
  const k = Math.min(input.delta.rows, input.delta.cols);
  const rr = r === undefined ? undefined : Math.min(r, k);
  return { site: input.site, placement: input.placement, rank: input.rank, ...spectrumAndAmplification(input.delta, input.w, rr) };
}

/** Spectrum of ΔW and, when W and r are given, the amplification factor, from one SVD of ΔW. */
function spectrumAndAmplification(delta: Matrix, w: Matrix | undefined, r: number | undefined): { spectrum: Spectrum; amplification: Amplification | null } {
  if (!w || r === undefined) return { spectrum: spectrum(delta, r), amplification: null };
  checkSpectrumArgs(delta, r);
  const d = svd(delta);
  return { spectrum: spectrumFromValues(d.s, r), amplification: amplificationFactor(delta, w, r, d) };
}

export interface LoraSiteInput {
  site: string;
  placement: string;
  /** A: [in, r] (rankwise layout); r is the site's rank. */
  a: Matrix;
  /** B: [r, out]. */
  b: Matrix;
  /** s in ΔW = s·A·B: α / r (α / √r with rsLoRA). */
  scaling: number;
  /** The base weight W: [in, out], for the amplification factor. */
  w?: Matrix;
}

/**
 * Spectrum and amplification factor of a rank-r LoRA update ΔW = s·A·B without forming ΔW, reduced to r×r without
 * losing anything the analyses need: with A = Qa·Ra and Bᵀ = Qb·Rb (thin QR), ΔW = Qa·(s·Ra·Rbᵀ)·Qbᵀ, so ΔW's
 * singular values are those of C = s·Ra·Rbᵀ, its top directions are Qa·U_C and Qb·V_C, and
 * Uᵀ·W·V = U_Cᵀ·(Qaᵀ·W·Qb)·V_C. The top-r share and the amplification factor use r = A's column count.
 */
export function analyzeLoraSite(input: LoraSiteInput): SiteAnalysis {
  const { a, b, scaling, w } = input;
  assertMatrix(a, 'analyzeLoraSite A');
  assertMatrix(b, 'analyzeLoraSite B');
  if (a.cols !== b.rows) throw new RangeError(`analyzeLoraSite: A is ${a.rows}×${a.cols} ([in, r]) but B is ${b.rows}×${b.cols} ([r, out]): ranks differ`);
  if (!Number.isFinite(scaling)) throw new RangeError(`analyzeLoraSite: scaling ${scaling} is not finite`);
  if (w && (w.rows !== a.rows || w.cols !== b.cols)) {
    throw new RangeError(`analyzeLoraSite: W is ${w.rows}×${w.cols} but ΔW = s·A·B is ${a.rows}×${b.cols}; both must have the layout [in, out]`);
  }
  const r = a.cols;
  const qa = thinQr(a); // A [in, r] = Qa [in, r] · Ra [r, r]
  const qb = thinQr(transpose(b)); // Bᵀ [out, r] = Qb [out, r] · Rb [r, r]
  const core = scale(matmul(qa.r, transpose(qb.r)), scaling); // Ra [r, r] · Rbᵀ [r, r] → C [r, r]
  const projectedW = w ? matmul(matmul(transpose(qa.q), w), qb.q) : undefined; // Qaᵀ [r, in] · W [in, out] · Qb [out, r] → [r, r]
  return { site: input.site, placement: input.placement, rank: r, ...spectrumAndAmplification(core, projectedW, r) };
}

/** φ between the A factors ([in, r1], [in, r2]) of two runs at the same site, ready for the report. */
export function compareSubspaces(site: string, placement: string, a1: Matrix, a2: Matrix): SubspaceComparison {
  const phi = subspaceSimilarity(a1, a2);
  return { site, placement, r1: a1.cols, r2: a2.cols, phi: toRows(phi) };
}
