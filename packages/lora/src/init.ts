import { Matrix, QrDecomposition, SingularValueDecomposition } from 'ml-matrix';

/**
 * The arithmetic of the inits that read W (PiSSA, OLoRA), in float64. The inits themselves (kaiming, gaussian, pissa,
 * olora: PEFT's init_lora_weights) are one file each in variants/, listed in variants/registry.ts.
 */

/** A, B (rankwise layout, float64) and the residual base weight W − s·A·B that an init puts in place of W. */
export interface InitialFactors {
  /** A: [in, r] row-major. */
  a: Float64Array;
  /** B: [r, out] row-major. */
  b: Float64Array;
  /** W − s·A·B: [in, out] row-major. */
  residual: Float64Array;
}

function checkShape(w: ArrayLike<number>, inFeatures: number, outFeatures: number, r: number, init: string): void {
  if (w.length !== inFeatures * outFeatures) throw new RangeError(`${init} init: W has ${w.length} values, expected [${inFeatures}, ${outFeatures}]`);
  const k = Math.min(inFeatures, outFeatures);
  if (!Number.isInteger(r) || r < 1 || r > k) {
    throw new RangeError(`${init} init: rank r = ${r} must be at most min(in, out) = ${k} for a [${inFeatures}, ${outFeatures}] weight`);
  }
}

/** rankwise W [in, out] as an ml-matrix in float64. */
function toMatrix(w: ArrayLike<number>, rows: number, cols: number): Matrix {
  const m = new Matrix(rows, cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) m.set(i, j, w[i * cols + j]);
  return m;
}

function residualOf(w: ArrayLike<number>, a: Float64Array, b: Float64Array, inFeatures: number, outFeatures: number, r: number, scaling: number): Float64Array {
  const out = new Float64Array(inFeatures * outFeatures);
  for (let i = 0; i < inFeatures; i++) {
    for (let j = 0; j < outFeatures; j++) {
      let ab = 0;
      for (let k = 0; k < r; k++) ab += a[i * r + k] * b[k * outFeatures + j]; // A [in, r] · B [r, out]
      out[i * outFeatures + j] = w[i * outFeatures + j] - scaling * ab;
    }
  }
  return out;
}

/**
 * PiSSA (Meng et al. 2024; PEFT `init_lora_weights="pissa"`). PEFT decomposes its [out, in] weight as V·S·Uh and sets
 * lora_A = diag(√(S_r/s))·Uh_r, lora_B = V_r·diag(√(S_r/s)). In rankwise's layout W [in, out] = Uhᵀ·S·Vᵀ, so with
 * W = U·Σ·Vᵀ: A = U_r·diag(√(Σ_r/s)) [in, r], B = diag(√(Σ_r/s))·V_rᵀ [r, out], and s·A·B is W's best rank-r
 * approximation. Float64 SVD (ml-matrix); singular vectors are unique up to sign, so A and B match PEFT up to the
 * sign of each of their r components, while s·A·B and the residual do not depend on it.
 */
export function pissaFactors(w: ArrayLike<number>, inFeatures: number, outFeatures: number, r: number, scaling: number): InitialFactors {
  checkShape(w, inFeatures, outFeatures, r, 'pissa');
  const svd = new SingularValueDecomposition(toMatrix(w, inFeatures, outFeatures), { autoTranspose: true });
  const u = svd.leftSingularVectors; // [in, k]
  const v = svd.rightSingularVectors; // [out, k]
  const sigma = svd.diagonal; // descending
  const a = new Float64Array(inFeatures * r);
  const b = new Float64Array(r * outFeatures);
  for (let k = 0; k < r; k++) {
    const root = Math.sqrt(sigma[k] / scaling);
    for (let i = 0; i < inFeatures; i++) a[i * r + k] = u.get(i, k) * root;
    for (let j = 0; j < outFeatures; j++) b[k * outFeatures + j] = v.get(j, k) * root;
  }
  return { a, b, residual: residualOf(w, a, b, inFeatures, outFeatures, r, scaling) };
}

/**
 * Householder QR of M [m, n] with LAPACK's (torch.linalg.qr's) signs: Q [m, k], R [k, n], k = min(m, n).
 * ml-matrix's QR (JAMA) needs m ≥ n and reflects a final one-element column that LAPACK leaves alone, so a wide M is
 * factored as [M₁ M₂] with M₁ = Q·R₁ square and R = [R₁, Qᵀ·M₂], and that last component's sign is turned back.
 */
export function householderQr(m: Matrix): { q: Matrix; r: Matrix } {
  const rows = m.rows;
  const cols = m.columns;
  const k = Math.min(rows, cols);
  const square = rows <= cols ? m.subMatrix(0, rows - 1, 0, rows - 1) : m;
  const qr = new QrDecomposition(square);
  const q = qr.orthogonalMatrix.subMatrix(0, rows - 1, 0, k - 1); // [m, k]
  const r1 = qr.upperTriangularMatrix.subMatrix(0, k - 1, 0, k - 1); // [k, k]
  const r = rows < cols ? Matrix.zeros(k, cols) : r1;
  if (rows < cols) {
    r.setSubMatrix(r1, 0, 0);
    r.setSubMatrix(q.transpose().mmul(m.subMatrix(0, rows - 1, rows, cols - 1)), 0, rows); // Qᵀ [k, m] · M₂ [m, n − m]
  }
  if (rows <= cols) {
    // JAMA reflects the last, one-element column (R[k−1][k−1] = −m); LAPACK's reflector there is the identity.
    for (let i = 0; i < rows; i++) q.set(i, k - 1, -q.get(i, k - 1));
    for (let j = 0; j < cols; j++) r.set(k - 1, j, -r.get(k - 1, j));
  }
  return { q, r };
}

/**
 * OLoRA (Büyükakyüz 2024; PEFT `init_lora_weights="olora"`): PEFT factors its [out, in] weight Wᵀ = Q·R and sets
 * lora_B = Q[:, :r], lora_A = R[:r]; the base keeps W − s·B·A (PEFT does not divide by s). In rankwise's layout:
 * A = R[:r]ᵀ [in, r], B = Q[:, :r]ᵀ [r, out]. Signs follow LAPACK's Householder convention, as torch's.
 */
export function oloraFactors(w: ArrayLike<number>, inFeatures: number, outFeatures: number, r: number, scaling: number): InitialFactors {
  checkShape(w, inFeatures, outFeatures, r, 'olora');
  const { q, r: upper } = householderQr(toMatrix(w, inFeatures, outFeatures).transpose()); // Wᵀ [out, in] = Q [out, k] · R [k, in]
  const a = new Float64Array(inFeatures * r);
  const b = new Float64Array(r * outFeatures);
  for (let k = 0; k < r; k++) {
    for (let i = 0; i < inFeatures; i++) a[i * r + k] = upper.get(k, i);
    for (let j = 0; j < outFeatures; j++) b[k * outFeatures + j] = q.get(j, k);
  }
  return { a, b, residual: residualOf(w, a, b, inFeatures, outFeatures, r, scaling) };
}
