import { applyQ, orthonormalComplement, pivotedQr, rAt, type PivotedQr } from './householder.js';
import { orthogonaliseColumns } from './jacobi.js';
import { assertMatrix, type Matrix } from './matrix.js';

/** Thin singular value decomposition M = U · diag(s) · Vᵀ. */
export interface Svd {
  /** rows × k, orthonormal columns (left singular vectors). */
  u: Matrix;
  /** k singular values, descending, k = min(rows, cols). */
  s: Float64Array;
  /** cols × k, orthonormal columns (right singular vectors). */
  v: Matrix;
}

/**
 * Thin SVD in float64: Householder QR with column pivoting (A·P = Q·R, rank-revealing: a trailing block below
 * eps·max(rows, cols)·‖A‖_F — 2⁻²⁴·‖A‖_F for Float32Array input — is dropped, so a rank-r matrix such as a LoRA
 * ΔW becomes an r-column problem), then one-sided Jacobi on Rᵀ
 * (Drmač–Veselić preconditioning: few sweeps). Works on the tall orientation (mᵀ for wide input).
 * Singular values beyond the numerical rank are reported as 0 and their singular vectors complete orthonormal bases.
 */
export function svd(m: Matrix): Svd {
  assertMatrix(m, 'svd');
  if (m.rows >= m.cols) return tallSvd(m, false, true) as Svd;
  const t = tallSvd(m, true, true) as Svd;
  return { u: t.v, s: t.s, v: t.u };
}

/** Singular values only (descending, length min(rows, cols)); skips the singular vectors. */
export function singularValues(m: Matrix): Float64Array {
  assertMatrix(m, 'singularValues');
  return tallSvd(m, m.rows < m.cols, false).s;
}

function tallSvd(m: Matrix, transposed: boolean, vectors: boolean): Svd | { s: Float64Array } {
  const rows = transposed ? m.cols : m.rows;
  const cols = transposed ? m.rows : m.cols;
  let maxAbs = 0;
  for (let i = 0; i < m.data.length; i++) maxAbs = Math.max(maxAbs, Math.abs(m.data[i]));
  const inv = maxAbs > 0 ? 1 / maxAbs : 1;
  const a = new Float64Array(rows * cols); // column-contiguous copy, scaled to max |x| = 1
  let fro2 = 0;
  if (transposed) {
    for (let i = 0; i < a.length; i++) a[i] = m.data[i] * inv;
  } else {
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) a[j * rows + i] = m.data[i * cols + j] * inv;
  }
  for (let i = 0; i < a.length; i++) fro2 += a[i] * a[i];
  const qr = pivotedQr(a, rows, cols, truncation(m) * Math.sqrt(fro2));
  const k = qr.rank;
  // X = R_kᵀ (cols × k): column i is row i of R.
  const x = new Float64Array(cols * k);
  for (let i = 0; i < k; i++) for (let j = i; j < cols; j++) x[i * cols + j] = rAt(qr, i, j);
  const rot = vectors ? identityColumns(k) : null;
  const sq = orthogonaliseColumns(x, cols, k, rot);
  const order = Array.from({ length: k }, (_, j) => j).sort((p, q) => sq[q] - sq[p]);
  const s = new Float64Array(cols);
  order.forEach((j, c) => (s[c] = Math.sqrt(sq[j]) * maxAbs));
  if (!vectors || !rot) return { s };
  return { s, ...singularVectors(qr, x, rot, sq, order) };
}

/** X = U_x Σ V_xᵀ with X = R_kᵀ, so A·P = Q_k R_k = (Q_k V_x) Σ U_xᵀ: U_A = Q·[V_x; 0], V_A = P·U_x. */
function singularVectors(qr: PivotedQr, x: Float64Array, rot: Float64Array, sq: Float64Array, order: number[]): { u: Matrix; v: Matrix } {
  const { m: rows, n: cols, rank: k } = qr;
  // Left: columns 0..k−1 are Q·[V_x(:, order); 0]; columns k..cols−1 are Q·e_c, orthogonal to the first k.
  const uCols = new Float64Array(rows * cols);
  order.forEach((j, c) => {
    for (let i = 0; i < k; i++) uCols[c * rows + i] = rot[j * k + i];
  });
  for (let c = k; c < cols; c++) uCols[c * rows + c] = 1;
  applyQ(qr, uCols, cols);
  // Right (pivoted order): normalised columns of X, completed with an orthonormal complement.
  const xCols = new Float64Array(cols * cols);
  order.forEach((j, c) => {
    const norm = Math.sqrt(sq[j]);
    for (let i = 0; i < cols; i++) xCols[c * cols + i] = x[j * cols + i] / norm;
  });
  if (k < cols) xCols.set(orthonormalComplement(xCols, cols, k, cols - k), k * cols);
  const u = new Float64Array(rows * cols);
  for (let c = 0; c < cols; c++) for (let i = 0; i < rows; i++) u[i * cols + c] = uCols[c * rows + i];
  const v = new Float64Array(cols * cols);
  for (let c = 0; c < cols; c++) for (let i = 0; i < cols; i++) v[qr.perm[i] * cols + c] = xCols[c * cols + i];
  return { u: { rows, cols, data: u }, v: { rows: cols, cols, data: v } };
}

/**
 * Relative size (to ‖A‖_F) of the trailing block that the pivoted QR drops: float64 roundoff, eps·max(rows, cols);
 * for float32 input at least 2⁻²⁴, the rounding of the stored values themselves (singular values below it are noise).
 */
function truncation(m: Matrix): number {
  const f64 = Number.EPSILON * Math.max(m.rows, m.cols);
  return m.data instanceof Float32Array ? Math.max(f64, 2 ** -24) : f64;
}

function identityColumns(k: number): Float64Array {
  const r = new Float64Array(k * k);
  for (let j = 0; j < k; j++) r[j * k + j] = 1;
  return r;
}
