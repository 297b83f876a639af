import { assertMatrix, matmul, scale, toRows, type Matrix } from '../linalg/matrix.js';
import type { SiteAnalysis, SubspaceComparison } from '../types.js';
import { amplificationFactor } from './amplification.js';
import { spectrum } from './spectrum.js';
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
  return {
    site: input.site,
    placement: input.placement,
    rank: input.rank,
    spectrum: spectrum(input.delta, rr),
    amplification: input.w && rr !== undefined ? amplificationFactor(input.delta, input.w, rr) : null,
  };
}

/** φ between the A factors ([in, r1], [in, r2]) of two runs at the same site, ready for the report. */
export function compareSubspaces(site: string, placement: string, a1: Matrix, a2: Matrix): SubspaceComparison {
  const phi = subspaceSimilarity(a1, a2);
  return { site, placement, r1: a1.cols, r2: a2.cols, phi: toRows(phi) };
}
