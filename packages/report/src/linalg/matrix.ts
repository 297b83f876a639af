/** A dense row-major matrix: element (i, j) is `data[i * cols + j]`. */
export interface Matrix {
  rows: number;
  cols: number;
  data: Float32Array | Float64Array;
}

/** Throws a clear error unless `m` is a well-formed matrix (positive integer shape, data length rows·cols, finite values). */
export function assertMatrix(m: Matrix, name = 'matrix'): void {
  if (m === null || typeof m !== 'object') throw new TypeError(`${name}: expected { rows, cols, data }, got ${String(m)}`);
  const { rows, cols, data } = m;
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 1 || cols < 1) {
    throw new RangeError(`${name}: shape must be positive integers, got ${rows}×${cols}`);
  }
  if (!(data instanceof Float32Array || data instanceof Float64Array)) {
    throw new TypeError(`${name}: data must be a Float32Array or Float64Array`);
  }
  if (data.length !== rows * cols) {
    throw new RangeError(`${name}: data has ${data.length} values but the shape ${rows}×${cols} needs ${rows * cols}`);
  }
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) throw new RangeError(`${name}: value ${data[i]} at index ${i} (row ${Math.floor(i / cols)}, col ${i % cols}) is not finite`);
  }
}

export function zeros(rows: number, cols: number): Matrix {
  return { rows, cols, data: new Float64Array(rows * cols) };
}

/** Builds a matrix from an array of equal-length rows. */
export function fromRows(rows: ArrayLike<number>[]): Matrix {
  if (rows.length === 0) throw new RangeError('fromRows: no rows');
  const cols = rows[0].length;
  const m = zeros(rows.length, cols);
  rows.forEach((row, i) => {
    if (row.length !== cols) throw new RangeError(`fromRows: row ${i} has ${row.length} values, row 0 has ${cols}`);
    for (let j = 0; j < cols; j++) m.data[i * cols + j] = row[j];
  });
  return m;
}

/** The rows as plain arrays (for JSON). */
export function toRows(m: Matrix): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < m.rows; i++) out.push(Array.from(m.data.subarray(i * m.cols, (i + 1) * m.cols)));
  return out;
}

export function transpose(m: Matrix): Matrix {
  const t = zeros(m.cols, m.rows);
  for (let i = 0; i < m.rows; i++) for (let j = 0; j < m.cols; j++) t.data[j * m.rows + i] = m.data[i * m.cols + j];
  return t;
}

/** a · b in float64. */
export function matmul(a: Matrix, b: Matrix): Matrix {
  if (a.cols !== b.rows) throw new RangeError(`matmul: inner dimensions differ (${a.rows}×${a.cols} · ${b.rows}×${b.cols})`);
  const out = zeros(a.rows, b.cols);
  const n = b.cols;
  for (let i = 0; i < a.rows; i++) {
    const row = i * n;
    for (let k = 0; k < a.cols; k++) {
      const aik = a.data[i * a.cols + k];
      if (aik === 0) continue;
      const bk = k * n;
      for (let j = 0; j < n; j++) out.data[row + j] += aik * b.data[bk + j];
    }
  }
  return out;
}

/** aᵀ · b in float64 without forming aᵀ. */
export function matmulTransposeA(a: Matrix, b: Matrix): Matrix {
  if (a.rows !== b.rows) throw new RangeError(`matmulTransposeA: row counts differ (${a.rows}×${a.cols}ᵀ · ${b.rows}×${b.cols})`);
  const out = zeros(a.cols, b.cols);
  const n = b.cols;
  for (let k = 0; k < a.rows; k++) {
    for (let i = 0; i < a.cols; i++) {
      const aki = a.data[k * a.cols + i];
      if (aki === 0) continue;
      const row = i * n;
      const bk = k * n;
      for (let j = 0; j < n; j++) out.data[row + j] += aki * b.data[bk + j];
    }
  }
  return out;
}

/** The first `k` columns. */
export function leadingColumns(m: Matrix, k: number): Matrix {
  if (!Number.isInteger(k) || k < 1 || k > m.cols) throw new RangeError(`leadingColumns: k = ${k} is outside 1..${m.cols}`);
  const out = zeros(m.rows, k);
  for (let i = 0; i < m.rows; i++) for (let j = 0; j < k; j++) out.data[i * k + j] = m.data[i * m.cols + j];
  return out;
}

export function scale(m: Matrix, factor: number): Matrix {
  const out = zeros(m.rows, m.cols);
  for (let i = 0; i < m.data.length; i++) out.data[i] = m.data[i] * factor;
  return out;
}

export function add(a: Matrix, b: Matrix): Matrix {
  assertSameShape(a, b, 'add');
  return { rows: a.rows, cols: a.cols, data: Float64Array.from(a.data, (x, i) => x + b.data[i]) };
}

export function subtract(a: Matrix, b: Matrix): Matrix {
  assertSameShape(a, b, 'subtract');
  const out = zeros(a.rows, a.cols);
  for (let i = 0; i < a.data.length; i++) out.data[i] = a.data[i] - b.data[i];
  return out;
}

/** ‖m‖_F, accumulated with scaling so that huge or tiny entries neither overflow nor underflow. */
export function frobeniusNorm(m: Matrix): number {
  let maxAbs = 0;
  for (let i = 0; i < m.data.length; i++) maxAbs = Math.max(maxAbs, Math.abs(m.data[i]));
  if (maxAbs === 0) return 0;
  let sum = 0;
  for (let i = 0; i < m.data.length; i++) {
    const x = m.data[i] / maxAbs;
    sum += x * x;
  }
  return maxAbs * Math.sqrt(sum);
}

export function assertSameShape(a: Matrix, b: Matrix, what: string): void {
  if (a.rows !== b.rows || a.cols !== b.cols) {
    throw new RangeError(`${what}: shapes differ (${a.rows}×${a.cols} vs ${b.rows}×${b.cols})`);
  }
}
