/**
 * ggml's block formats (ggml-quants.c's dequantize_row_* and quantize_row_*_ref, as gguf-py's quants.py reimplements
 * them): a tensor's bytes → float32, and float32 → F16 / BF16 / Q8_0 bytes. Tensors are row-major with the first GGUF
 * dimension fastest; every row is a whole number of blocks.
 */
import { BLOCK_SIZES, GgmlType, ggmlTypeName } from './constants.js';
import { bf16ToFloat, floatToHalf, halfToFloat } from './half.js';

/** Bytes that `count` elements of `type` take, or an error naming the type when rankwise cannot read it. */
export function tensorBytes(type: GgmlType, count: number): number {
  const size = BLOCK_SIZES[type];
  if (!size) throw new Error(`tensor type ${ggmlTypeName(type)} is not supported`);
  const [block, bytes] = size;
  if (count % block !== 0) throw new Error(`${count} elements are not a whole number of ${ggmlTypeName(type)} blocks of ${block}`);
  return (count / block) * bytes;
}

const half = (data: Uint8Array, at: number): number => halfToFloat(data[at] | (data[at + 1] << 8));

/** Q8_0: per 32 values, an f16 scale d and 32 int8 q; x = d·q. */
function dequantizeQ8_0(data: Uint8Array, out: Float32Array): void {
  const bytes = new Int8Array(data.buffer, data.byteOffset, data.byteLength);
  for (let _b = 0, o = 0, at = 0; o < out.length; _b++, at += 34) {
    const d = half(data, at);
    for (let j = 0; j < 32; j++) out[o++] = d * bytes[at + 2 + j];
  }
}

/** Q4_0: per 32 values, an f16 scale d and 16 bytes of 4-bit q (low nibbles: values 0–15, high: 16–31); x = d·(q − 8). */
function dequantizeQ4_0(data: Uint8Array, out: Float32Array): void {
  for (let o = 0, at = 0; o < out.length; o += 32, at += 18) {
    const d = half(data, at);
    for (let j = 0; j < 16; j++) {
      const q = data[at + 2 + j];
      out[o + j] = d * ((q & 0x0f) - 8);
      out[o + j + 16] = d * ((q >> 4) - 8);
    }
  }
}

/** Q4_K's 6-bit scale and min of sub-block j from the 12 packed scale bytes at `s` (ggml's get_scale_min_k4). */
function scaleMinK4(data: Uint8Array, s: number, j: number): [number, number] {
  if (j < 4) return [data[s + j] & 63, data[s + j + 4] & 63];
  return [(data[s + j + 4] & 0x0f) | ((data[s + j - 4] >> 6) << 4), (data[s + j + 4] >> 4) | ((data[s + j] >> 6) << 4)];
}

/**
 * Q4_K: per 256 values (144 bytes): f16 d, f16 dmin, 12 bytes of 6-bit scales and mins for 8 sub-blocks of 32, 128
 * bytes of 4-bit q; x = d·scale·q − dmin·min.
 */
function dequantizeQ4_K(data: Uint8Array, out: Float32Array): void {
  for (let o = 0, at = 0; o < out.length; at += 144) {
    const d = half(data, at);
    const dmin = half(data, at + 2);
    const scales = at + 4;
    let q = at + 16;
    for (let j = 0; j < 8; j += 2, q += 32) {
      const [sc1, m1] = scaleMinK4(data, scales, j);
      const [sc2, m2] = scaleMinK4(data, scales, j + 1);
      for (let l = 0; l < 32; l++) out[o + l] = d * sc1 * (data[q + l] & 0x0f) - dmin * m1;
      for (let l = 0; l < 32; l++) out[o + 32 + l] = d * sc2 * (data[q + l] >> 4) - dmin * m2;
      o += 64;
    }
  }
}

/**
 * Q6_K: per 256 values (210 bytes): 128 bytes ql (low 4 bits), 64 bytes qh (high 2 bits), 16 int8 scales, f16 d;
 * x = d·scale·(q − 32) with q = 6 bits.
 */
function dequantizeQ6_K(data: Uint8Array, out: Float32Array): void {
  const signed = new Int8Array(data.buffer, data.byteOffset, data.byteLength);
  for (let o = 0, at = 0; o < out.length; at += 210) {
    const d = half(data, at + 208);
    for (let n = 0; n < 2; n++, o += 128) {
      const ql = at + 64 * n;
      const qh = at + 128 + 32 * n;
      const sc = at + 192 + 8 * n;
      for (let l = 0; l < 32; l++) {
        const is = l >> 4;
        const h = data[qh + l];
        const q1 = ((data[ql + l] & 0x0f) | ((h & 3) << 4)) - 32;
        const q2 = ((data[ql + l + 32] & 0x0f) | (((h >> 2) & 3) << 4)) - 32;
        const q3 = ((data[ql + l] >> 4) | (((h >> 4) & 3) << 4)) - 32;
        const q4 = ((data[ql + l + 32] >> 4) | (((h >> 6) & 3) << 4)) - 32;
        out[o + l] = d * signed[sc + is] * q1;
        out[o + l + 32] = d * signed[sc + is + 2] * q2;
        out[o + l + 64] = d * signed[sc + is + 4] * q3;
        out[o + l + 96] = d * signed[sc + is + 6] * q4;
      }
    }
  }
}

/** `count` values of `type` from `data` as float32. */
export function dequantize(type: GgmlType, data: Uint8Array, count: number): Float32Array {
  const expected = tensorBytes(type, count);
  if (data.byteLength !== expected) throw new Error(`${ggmlTypeName(type)}: ${data.byteLength} bytes for ${count} values, expected ${expected}`);
  const out = new Float32Array(count);
  switch (type) {
    case GgmlType.F32:
      out.set(new Float32Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)));
      break;
    case GgmlType.F16:
      for (let i = 0; i < count; i++) out[i] = half(data, 2 * i);
      break;
    case GgmlType.BF16:
      for (let i = 0; i < count; i++) out[i] = bf16ToFloat(data[2 * i] | (data[2 * i + 1] << 8));
      break;
    case GgmlType.Q8_0:
      dequantizeQ8_0(data, out);
      break;
    case GgmlType.Q4_0:
      dequantizeQ4_0(data, out);
      break;
    case GgmlType.Q4_K:
      dequantizeQ4_K(data, out);
      break;
    case GgmlType.Q6_K:
      dequantizeQ6_K(data, out);
      break;
    default:
      throw new Error(`tensor type ${ggmlTypeName(type)} is not supported`);
  }
  return out;
}

/** Round half away from zero (C's roundf, which ggml's reference quantizers use). */
const roundf = (x: number): number => Math.sign(x) * Math.round(Math.abs(x));

/** Q8_0 as ggml's quantize_row_q8_0_ref: d = max|x| / 127 (stored as f16), q = roundf(x / d). */
function quantizeQ8_0(values: Float32Array): Uint8Array {
  const out = new Uint8Array(tensorBytes(GgmlType.Q8_0, values.length));
  const view = new DataView(out.buffer);
  for (let i = 0, at = 0; i < values.length; i += 32, at += 34) {
    let amax = 0;
    for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(values[i + j]));
    const d = Math.fround(amax / 127);
    const id = d !== 0 ? Math.fround(1 / d) : 0;
    view.setUint16(at, floatToHalf(d), true);
    for (let j = 0; j < 32; j++) view.setInt8(at + 2 + j, roundf(Math.fround(values[i + j] * id)));
  }
  return out;
}

/** float32 values as the bytes of `type` (F32, F16, BF16 by rounding to nearest even, or Q8_0). */
export function quantize(type: GgmlType, values: Float32Array): Uint8Array {
  switch (type) {
    case GgmlType.F32:
      return new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
    case GgmlType.F16: {
      const out = new Uint16Array(values.length);
      for (let i = 0; i < values.length; i++) out[i] = floatToHalf(values[i]);
      return new Uint8Array(out.buffer);
    }
    case GgmlType.Q8_0:
      return quantizeQ8_0(values);
    default:
      throw new Error(`writing tensor type ${ggmlTypeName(type)} is not supported (f32, f16, q8_0)`);
  }
}
