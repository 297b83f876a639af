/**
 * One-sided (Hestenes) Jacobi on `count` columns of length `len`, stored contiguously (column j is
 * cols[j·len, (j+1)·len)). Rotates pairs of columns until every pair is orthogonal to ~eps relative;
 * optionally accumulates the rotations in `rot` (count × count, column-contiguous, starting from I).
 * Returns the squared column norms (the squared singular values, unsorted).
 */
const EPS = Number.EPSILON;
const MAX_SWEEPS = 60;

export function orthogonaliseColumns(cols: Float64Array, len: number, count: number, rot: Float64Array | null): Float64Array {
  const sq = new Float64Array(count);
  let total = 0;
  for (let j = 0; j < count; j++) {
    sq[j] = dot(cols, j * len, j * len, len);
    total += sq[j];
  }
  const negligible = EPS * EPS * total; // columns below eps·‖M‖_F carry no information
  const tol = EPS * Math.sqrt(len);
  for (let sweep = 0; sweep < MAX_SWEEPS; sweep++) {
    let rotations = 0;
    for (let p = 0; p < count - 1; p++) {
      for (let q = p + 1; q < count; q++) {
        const alpha = sq[p];
        const beta = sq[q];
        if (alpha <= negligible || beta <= negligible) continue;
        const gamma = dot(cols, p * len, q * len, len);
        if (Math.abs(gamma) <= tol * Math.sqrt(alpha * beta)) continue;
        rotations++;
        const zeta = (beta - alpha) / (2 * gamma);
        const t = (zeta >= 0 ? 1 : -1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = c * t;
        rotate(cols, p * len, q * len, len, c, s);
        if (rot) rotate(rot, p * count, q * count, count, c, s);
        sq[p] = alpha - t * gamma;
        sq[q] = beta + t * gamma;
      }
    }
    for (let j = 0; j < count; j++) sq[j] = dot(cols, j * len, j * len, len); // drop the drift of the running updates
    if (rotations === 0) break;
  }
  return sq;
}

export function dot(a: Float64Array, offA: number, offB: number, n: number): number {
  let sum = 0;
  for (let i = 0; i < n; i++) sum += a[offA + i] * a[offB + i];
  return sum;
}

function rotate(a: Float64Array, offP: number, offQ: number, n: number, c: number, s: number): void {
  for (let i = 0; i < n; i++) {
    const ap = a[offP + i];
    const aq = a[offQ + i];
    a[offP + i] = c * ap - s * aq;
    a[offQ + i] = s * ap + c * aq;
  }
}
