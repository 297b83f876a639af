import type { Matrix } from '@rankwise/report';

/** Row-major float64 matrix helpers for the small products the analyses need. */
export function matrix(rows: number, cols: number, data?: ArrayLike<number>): Matrix {
  return { rows, cols, data: data ? Float64Array.from(data) : new Float64Array(rows * cols) };
}

export function transpose(m: Matrix): Matrix {
  const out = matrix(m.cols, m.rows);
  for (let i = 0; i < m.rows; i++) for (let j = 0; j < m.cols; j++) out.data[j * m.rows + i] = m.data[i * m.cols + j];
  return out;
}

/** a [n, k] · b [k, m] → [n, m] */
export function multiply(a: Matrix, b: Matrix): Matrix {
  if (a.cols !== b.rows) throw new Error(`cannot multiply [${a.rows}, ${a.cols}] by [${b.rows}, ${b.cols}]`);
  const out = matrix(a.rows, b.cols);
  for (let i = 0; i < a.rows; i++) {
    for (let k = 0; k < a.cols; k++) {
      const aik = a.data[i * a.cols + k];
      if (aik === 0) continue;
      for (let j = 0; j < b.cols; j++) out.data[i * b.cols + j] += aik * b.data[k * b.cols + j];
    }
  }
  return out;
}

export function scale(m: Matrix, s: number): Matrix {
  return { rows: m.rows, cols: m.cols, data: Float64Array.from(m.data, (v) => v * s) };
}

export function subtract(a: Matrix, b: Matrix): Matrix {
  if (a.rows !== b.rows || a.cols !== b.cols) throw new Error(`shape mismatch [${a.rows}, ${a.cols}] vs [${b.rows}, ${b.cols}]`);
  return { rows: a.rows, cols: a.cols, data: Float64Array.from(a.data, (v, i) => v - b.data[i]) };
}

/**
 * Thin QR by modified Gram–Schmidt (twice, for orthogonality): m [n, k] = q [n, k] · r [k, k].
 * A column that is numerically dependent gets a zero column in q and a zero row in r.
 */
export function qr(m: Matrix): { q: Matrix; r: Matrix } {
  const { rows: n, cols: k } = m;
  const q = transpose(m); // work on columns as rows: [k, n]
  const r = matrix(k, k);
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
