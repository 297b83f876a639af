import { assertMatrix, type Matrix } from '../linalg/matrix.js';

/**
 * The weight update of a DoRA adapter, in float64: ΔW = m ⊙ (W + s·A·B) / ‖W + s·A·B‖ − W, the norm per output
 * column of W [in, out] (A [in, r], B [r, out], m [out]). Unlike s·A·B it is not of rank r: the magnitude rescales
 * whole columns of W, which the spectrum and the intruder analysis then see.
 */
export function doraDelta(w: Matrix, a: Matrix, b: Matrix, scaling: number, magnitude: ArrayLike<number>): Matrix {
  assertMatrix(w, 'doraDelta W');
  assertMatrix(a, 'doraDelta A');
  assertMatrix(b, 'doraDelta B');
  if (a.rows !== w.rows || b.cols !== w.cols || a.cols !== b.rows) {
    throw new RangeError(`doraDelta: W is ${w.rows}×${w.cols}, A ${a.rows}×${a.cols}, B ${b.rows}×${b.cols}; expected W [in, out], A [in, r], B [r, out]`);
  }
  if (magnitude.length !== w.cols) throw new RangeError(`doraDelta: ${magnitude.length} magnitudes for ${w.cols} outputs`);
  const { rows, cols } = w;
  const r = a.cols;
  const adapted = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      let ab = 0;
      for (let k = 0; k < r; k++) ab += a.data[i * r + k] * b.data[k * cols + j]; // A [in, r] · B [r, out]
      adapted[i * cols + j] = w.data[i * cols + j] + scaling * ab;
    }
  }
  const out = new Float64Array(rows * cols);
  for (let j = 0; j < cols; j++) {
    let sq = 0;
    for (let i = 0; i < rows; i++) sq += adapted[i * cols + j] ** 2;
    const factor = sq > 0 ? magnitude[j] / Math.sqrt(sq) : 0;
    for (let i = 0; i < rows; i++) out[i * cols + j] = adapted[i * cols + j] * factor - w.data[i * cols + j];
  }
  return { rows, cols, data: out };
}
