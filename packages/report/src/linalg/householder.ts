/**
 * Householder QR with column pivoting on column-contiguous storage (column j of an m-row matrix is
 * a[j·m, (j+1)·m)). Used to precondition the Jacobi SVD and to complete orthonormal bases.
 */
export interface PivotedQr {
  m: number;
  n: number;
  /** Numerical rank: the first `rank` Householder steps were taken; the discarded trailing block has ‖·‖_F ≤ tolerance. */
  rank: number;
  /** Column j of A·P is column perm[j] of A. */
  perm: Int32Array;
  /** Overwritten input: R above the diagonal, Householder vectors (v₀ = 1 implicit) below it, diagonal in rDiag. */
  a: Float64Array;
  rDiag: Float64Array;
  tau: Float64Array;
}

/**
 * Factorises A·P = Q·R in place, stopping once the trailing block's Frobenius norm is ≤ `tolerance`
 * (so ‖A·P − Q_k·R_k‖_F ≤ tolerance, and every dropped singular value is ≤ tolerance by Weyl's inequality).
 */
export function pivotedQr(a: Float64Array, m: number, n: number, tolerance: number): PivotedQr {
  const perm = Int32Array.from({ length: n }, (_, j) => j);
  const rDiag = new Float64Array(n);
  const tau = new Float64Array(n);
  const partial = new Float64Array(n);
  let rank = 0;
  const steps = Math.min(m, n);
  for (let k = 0; k < steps; k++) {
    let trailing = 0;
    let pivot = k;
    for (let j = k; j < n; j++) {
      let s = 0;
      for (let i = k; i < m; i++) s += a[j * m + i] * a[j * m + i];
      partial[j] = s;
      trailing += s;
      if (s > partial[pivot]) pivot = j;
    }
    if (Math.sqrt(trailing) <= tolerance) break;
    if (pivot !== k) {
      swapColumns(a, m, k, pivot);
      const p = perm[k];
      perm[k] = perm[pivot];
      perm[pivot] = p;
    }
    const off = k * m;
    const norm = Math.sqrt(partial[pivot]);
    const x0 = a[off + k];
    const diag = x0 >= 0 ? -norm : norm;
    const v0 = x0 - diag;
    // v = [1, x₁/v₀, …]; τ = −v₀ / diag makes H = I − τ v vᵀ map x to diag·e₁.
    for (let i = k + 1; i < m; i++) a[off + i] /= v0;
    a[off + k] = 1;
    tau[k] = -v0 / diag;
    rDiag[k] = diag;
    for (let j = k + 1; j < n; j++) applyReflector(a, off, k, m, tau[k], a, j * m);
    a[off + k] = diag; // keep the diagonal in place too (v₀ = 1 is implicit)
    rank = k + 1;
  }
  return { m, n, rank, perm, a, rDiag, tau };
}

/** y ← H_k · y for the reflector stored in column `k` (rows k..m−1) of qr.a; `y` has length m at offset `yOff`. */
function applyReflector(a: Float64Array, off: number, k: number, m: number, tau: number, y: Float64Array, yOff: number): void {
  let w = y[yOff + k];
  for (let i = k + 1; i < m; i++) w += a[off + i] * y[yOff + i];
  w *= tau;
  y[yOff + k] -= w;
  for (let i = k + 1; i < m; i++) y[yOff + i] -= w * a[off + i];
}

/** cols ← Q · cols for `count` columns of length m (Q = H₀·H₁⋯H_{rank−1}). */
export function applyQ(qr: PivotedQr, cols: Float64Array, count: number): void {
  const { a, m, tau } = qr;
  for (let c = 0; c < count; c++) {
    for (let k = qr.rank - 1; k >= 0; k--) {
      const save = a[k * m + k];
      a[k * m + k] = 1;
      applyReflector(a, k * m, k, m, tau[k], cols, c * m);
      a[k * m + k] = save;
    }
  }
}

/** Row i, column j of R (j in pivoted order), i < rank. */
export function rAt(qr: PivotedQr, i: number, j: number): number {
  if (j < i) return 0;
  if (j === i) return qr.rDiag[i];
  return qr.a[j * qr.m + i];
}

/**
 * `count` orthonormal vectors of length `dim` orthogonal to the k orthonormal columns in `basis`
 * (column-contiguous): the columns k.. of the Householder Q of the basis.
 */
export function orthonormalComplement(basis: Float64Array, dim: number, k: number, count: number): Float64Array {
  if (k + count > dim) throw new RangeError(`orthonormalComplement: ${k} + ${count} vectors exceed dimension ${dim}`);
  const qr = pivotedQr(basis.slice(0, dim * k), dim, k, 0);
  const out = new Float64Array(dim * count);
  for (let c = 0; c < count; c++) out[c * dim + qr.rank + c] = 1;
  applyQ(qr, out, count);
  return out;
}

function swapColumns(a: Float64Array, m: number, p: number, q: number): void {
  for (let i = 0; i < m; i++) {
    const t = a[p * m + i];
    a[p * m + i] = a[q * m + i];
    a[q * m + i] = t;
  }
}
