import { dequantizeBf16Rows, quantizeBf16 } from './bf16.js';
import { dequantizeInt8Rows, quantizeInt8Rows } from './int8.js';
import { dequantizeNf4Rows, nf4BlockScales, quantizeNf4 } from './nf4.js';
import type { QuantizedWeight, QuantType } from './types.js';

/** Quantizes `w`, a weight in nn.Linear layout [rows = out, cols = in], row-major. */
export function quantizeWeight(type: QuantType, w: Float32Array, rows: number, cols: number): QuantizedWeight {
  switch (type) {
    case 'nf4': {
      const { absmax: _absmax, ...stored } = quantizeNf4(w, rows, cols);
      return stored;
    }
    case 'int8':
      return quantizeInt8Rows(w, rows, cols);
    case 'bf16':
      return quantizeBf16(w, rows, cols);
  }
}

/** The whole dequantized weight [rows, cols] (row-major float32). */
export function dequantizeWeight(w: QuantizedWeight, out: Float32Array = new Float32Array(w.rows * w.cols)): Float32Array {
  return dequantizeRows(w, 0, w.rows, out);
}

/** Rows [r0, r1) of the dequantized weight into `out`. */
export function dequantizeRows(w: QuantizedWeight, r0: number, r1: number, out: Float32Array): Float32Array {
  if (r0 < 0 || r1 > w.rows || r0 > r1 || out.length < (r1 - r0) * w.cols)
    throw new Error(`dequantizeRows: rows [${r0}, ${r1}) of ${w.rows}, ${out.length} values`);
  switch (w.type) {
    case 'nf4':
      return dequantizeNf4Rows(w, r0, r1, out, nf4BlockScales(w));
    case 'int8':
      return dequantizeInt8Rows(w, r0, r1, out);
    case 'bf16':
      return dequantizeBf16Rows(w, r0, r1, out);
  }
}
