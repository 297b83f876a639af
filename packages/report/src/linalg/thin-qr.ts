import { transpose, zeros, type Matrix } from './matrix.js';

/**
 * Thin QR by modified Gram–Schmidt (twice, for orthogonality): m [n, k] = q [n, k] · r [k, k].
 * A column that is numerically dependent gets a zero column in q and a zero row in r.
 */
export function thinQr(m: Matrix): { q: Matrix; r: Matrix } {
  const { rows: n, cols: k } = m;
  const q = transpose(m); // work on columns as rows: [k, n]
  const r = zeros(k, k);
  for (let j = 0; j < k; j++) {
    const col = q.data.subarray(j * n, (j + 1) * n);
    for (let pass = 0; pass < 2; pass++) {
      for (let i = 0; i < j; i++) {
        const prev = q.data.subarray(i * n, (i + 1) * n);
        let dot = 0;
        for (let t = 0; t < n; t++) dot += prev[t] * col[t];
        r.data[i * k + j] += dot;
        for (let t = 0; t < n; t++) col[t] -= dot * prev[t];
      }
    }
    let norm = 0;
    for (let t = 0; t < n; t++) norm += col[t] * col[t];
    norm = Math.sqrt(norm);
    r.data[j * k + j] = norm;
    if (norm > 1e-12) for (let t = 0; t < n; t++) col[t] /= norm;
    else col.fill(0);
  }
  return { q: transpose(q), r };
}
