import type { Int8Weight } from './types.js';

/**
 * int8 absmax per row, bitsandbytes' LLM.int8() row-wise quantization (backends/default/ops.py int8_vectorwise_quant
 * and _ops.py int8_vectorwise_dequant) in float32: rowStats = max |row|; code = round(x · (127 / rowStats)) with ties
 * to even; dequantized x = code · rowStats · 7.874015718698502e-3 (1/127 in float32), multiplied in that order.
 * A row of zeros (where bitsandbytes would divide by zero) gets codes 0 and rowStats 0.
 */

const fr = Math.fround;
export const INT8_INV_127 = fr(7.874015718698502e-3);

/** Math.round rounds ties up; torch.round rounds them to even. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export function quantizeInt8Rows(w: Float32Array, rows: number, cols: number): Int8Weight {
  if (w.length !== rows * cols) throw new Error(`quantizeInt8Rows: ${w.length} values for [${rows}, ${cols}]`);
  const codes = new Int8Array(w.length);
  const rowStats = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let m = 0;
    for (let c = 0; c < cols; c++) m = Math.max(m, Math.abs(w[r * cols + c]));
    rowStats[r] = m;
    if (m === 0) continue;
    const scale = fr(127 / m);
    for (let c = 0; c < cols; c++) codes[r * cols + c] = roundHalfEven(fr(w[r * cols + c] * scale));
  }
  return { type: 'int8', rows, cols, codes, rowStats };
}

export function dequantizeInt8Rows(w: Int8Weight, r0: number, r1: number, out: Float32Array): Float32Array {
  for (let r = r0; r < r1; r++) {
    const s = w.rowStats[r];
    const base = r * w.cols;
    const at = (r - r0) * w.cols;
    for (let c = 0; c < w.cols; c++) out[at + c] = fr(fr(w.codes[base + c] * s) * INT8_INV_127);
  }
  return out;
}
