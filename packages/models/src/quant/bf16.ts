import type { Bf16Weight } from './types.js';

/** float32 → bfloat16 as torch converts: round to nearest, ties to even; NaN stays a (quiet) NaN. */
export function quantizeBf16(w: Float32Array, rows: number, cols: number): Bf16Weight {
  if (w.length !== rows * cols) throw new Error(`quantizeBf16: ${w.length} values for [${rows}, ${cols}]`);
  const words = new Uint32Array(w.buffer, w.byteOffset, w.length);
  const bits = new Uint16Array(w.length);
  for (let i = 0; i < w.length; i++) {
    const u = words[i];
    if ((u & 0x7fffffff) > 0x7f800000) {
      bits[i] = (u >>> 16) | 0x40;
      continue;
    }
    bits[i] = (u + 0x7fff + ((u >>> 16) & 1)) >>> 16;
  }
  return { type: 'bf16', rows, cols, bits };
}

export function dequantizeBf16Rows(w: Bf16Weight, r0: number, r1: number, out: Float32Array): Float32Array {
  const words = new Uint32Array(out.buffer, out.byteOffset, (r1 - r0) * w.cols);
  const start = r0 * w.cols;
  for (let i = 0; i < words.length; i++) words[i] = w.bits[start + i] << 16;
  return out;
}
