/**
 * Frozen weights stored quantized (QLoRA-style): a Linear's W in PyTorch's nn.Linear layout [out, in] (`rows` = out,
 * `cols` = in), flattened row-major, as bitsandbytes quantizes nn.Linear.weight. Plain typed arrays, no tensors: the
 * native backend reads them in its matmul kernel, other backends dequantize one layer at a time when it is used.
 */

export type QuantType = 'nf4' | 'int8' | 'bf16';
export const QUANT_TYPES: readonly QuantType[] = ['nf4', 'int8', 'bf16'];

/** NF4 with double quantization (bitsandbytes quantize_4bit(blocksize=64, compress_statistics=True, quant_type="nf4")). */
export interface Nf4Weight {
  type: 'nf4';
  rows: number;
  cols: number;
  /** Two 4-bit codes per byte, the first value in the high nibble: ceil(rows·cols / 2) bytes. */
  packed: Uint8Array;
  /** One 8-bit dynamic-map code per block of 64 values: the block's absmax minus `offset`, quantized in blocks of 256. */
  qabsmax: Uint8Array;
  /** The absmax of each block of 256 (absmax − offset) values. */
  absmax2: Float32Array;
  /** The mean of the blocks' absmax values (float32). */
  offset: number;
  /** The 16 NF4 code values and the 256 values of the 8-bit dynamic map (shared tables, as bitsandbytes' QuantState carries them). */
  code: Float32Array;
  absmaxCode: Float32Array;
}

/** LLM.int8()-style absmax per row: W[r, c] ≈ codes[r, c] · rowStats[r] / 127. */
export interface Int8Weight {
  type: 'int8';
  rows: number;
  cols: number;
  codes: Int8Array;
  rowStats: Float32Array;
}

/** bfloat16: the high 16 bits of each float32 (rounded to nearest, ties to even). */
export interface Bf16Weight {
  type: 'bf16';
  rows: number;
  cols: number;
  bits: Uint16Array;
}

export type QuantizedWeight = Nf4Weight | Int8Weight | Bf16Weight;

/** Bytes a quantized weight holds. */
export function quantizedBytes(w: QuantizedWeight): number {
  switch (w.type) {
    case 'nf4':
      return w.packed.byteLength + w.qabsmax.byteLength + w.absmax2.byteLength + 4;
    case 'int8':
      return w.codes.byteLength + w.rowStats.byteLength;
    case 'bf16':
      return w.bits.byteLength;
  }
}
