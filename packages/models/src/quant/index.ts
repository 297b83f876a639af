export { QUANT_TYPES, quantizedBytes, type Bf16Weight, type Int8Weight, type Nf4Weight, type QuantizedWeight, type QuantType } from './types.js';
export { DYNAMIC_CODE, NF4_CODE, NF4_BLOCK, NF4_ABSMAX_BLOCK, quantizeNf4, dequantizeNf4Rows, nf4BlockScales } from './nf4.js';
export { quantizeInt8Rows, dequantizeInt8Rows } from './int8.js';
export { quantizeBf16, dequantizeBf16Rows } from './bf16.js';
export { quantizeWeight, dequantizeWeight, dequantizeRows } from './quantize.js';
