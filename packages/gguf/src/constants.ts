/**
 * GGUF's numbers, as llama.cpp's gguf-py (constants.py) and ggml.h define them: metadata value types, ggml tensor
 * types with their block sizes, and the file types of `general.file_type`.
 */
export const GGUF_MAGIC = 0x46554747; // "GGUF" read as a little-endian uint32
export const GGUF_VERSION = 3;
export const GGUF_DEFAULT_ALIGNMENT = 32;

export enum GgufValueType {
  UINT8 = 0,
  INT8 = 1,
  UINT16 = 2,
  INT16 = 3,
  UINT32 = 4,
  INT32 = 5,
  FLOAT32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  UINT64 = 10,
  INT64 = 11,
  FLOAT64 = 12,
}

/** ggml_type ids of the tensor types rankwise reads or writes (others are named in errors by id). */
export enum GgmlType {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q8_1 = 9,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  Q8_K = 15,
  BF16 = 30,
}

/** Elements per block and bytes per block (gguf-py's GGML_QUANT_SIZES) for the types rankwise dequantizes. */
export const BLOCK_SIZES: Partial<Record<GgmlType, readonly [number, number]>> = {
  [GgmlType.F32]: [1, 4],
  [GgmlType.F16]: [1, 2],
  [GgmlType.BF16]: [1, 2],
  [GgmlType.Q8_0]: [32, 2 + 32],
  [GgmlType.Q4_0]: [32, 2 + 16],
  [GgmlType.Q4_K]: [256, 2 + 2 + 128 + 12],
  [GgmlType.Q6_K]: [256, 2 + 128 + 64 + 16],
};

/** The tensor types rankwise reads (dequantized to float32). */
export const READABLE_TYPES: readonly GgmlType[] = [GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_K, GgmlType.Q6_K];

export function ggmlTypeName(type: number): string {
  return GgmlType[type] ?? `type ${type}`;
}

/** llama_ftype values for `general.file_type` (gguf-py's LlamaFileType). */
export const FILE_TYPE = { ALL_F32: 0, MOSTLY_F16: 1, MOSTLY_Q8_0: 7 } as const;

/** The output types rankwise writes. */
export type GgufWriteType = 'f32' | 'f16' | 'q8_0';
export const WRITE_TYPES: Record<GgufWriteType, { tensor: GgmlType; fileType: number }> = {
  f32: { tensor: GgmlType.F32, fileType: FILE_TYPE.ALL_F32 },
  f16: { tensor: GgmlType.F16, fileType: FILE_TYPE.MOSTLY_F16 },
  q8_0: { tensor: GgmlType.Q8_0, fileType: FILE_TYPE.MOSTLY_Q8_0 },
};
