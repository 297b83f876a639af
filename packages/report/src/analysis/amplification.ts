import { assertMatrix, assertSameShape, frobeniusNorm, leadingColumns, matmul, matmulTransposeA, type Matrix } from '../linalg/matrix.js';
import { svd, type Svd } from '../linalg/svd.js';

export interface Amplification {
  /** ‖ΔW‖_F / ‖Uᵀ W V‖_F: how much ΔW amplifies the directions of W it lies in (paper Table 7: ~21.5 for r = 4). */
  factor: number;
  /** ‖ΔW‖_F. */
  deltaNorm: number;
  /** ‖Uᵀ W V‖_F: the size of W inside ΔW's top-r subspace. */
  projectedNorm: number;
}

/**
 * Amplification factor (paper §7.3): with U (rows × r) and V (cols × r) the top-r left/right singular vectors of ΔW,
 * factor = ‖ΔW‖_F / ‖Uᵀ W V‖_F. W and ΔW must have the same layout (rankwise: [in, out]).
 * Infinity when W has no component in that subspace (projectedNorm = 0); 0 when ΔW = 0.
 * `precomputed`: svd(delta) when the caller already has it (it is not recomputed).
 */
export function amplificationFactor(delta: Matrix, w: Matrix, r: number, precomputed?: Svd): Amplification {
  assertMatrix(delta, 'amplificationFactor delta');
  assertMatrix(w, 'amplificationFactor w');
  assertSameShape(delta, w, 'amplificationFactor: ΔW and W must have the same shape and layout [in, out]');
  const k = Math.min(delta.rows, delta.cols);
  if (!Number.isInteger(r) || r < 1 || r > k) throw new RangeError(`amplificationFactor: r = ${r} must be an integer in 1..${k}`);
  if (precomputed && (precomputed.u.rows !== delta.rows || precomputed.v.rows !== delta.cols)) {
    throw new RangeError(
      `amplificationFactor: the precomputed SVD is of a ${precomputed.u.rows}×${precomputed.v.rows} matrix, ΔW is ${delta.rows}×${delta.cols}`,
    );
  }
  const d = precomputed ?? svd(delta);
  const u = leadingColumns(d.u, r);
  const v = leadingColumns(d.v, r);
  const projected = matmul(matmulTransposeA(u, w), v); // r × r
  const deltaNorm = frobeniusNorm(delta);
  const projectedNorm = frobeniusNorm(projected);
  const factor = deltaNorm === 0 ? 0 : projectedNorm === 0 ? Number.POSITIVE_INFINITY : deltaNorm / projectedNorm;
  return { factor, deltaNorm, projectedNorm };
}
