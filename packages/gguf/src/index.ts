export {
  BLOCK_SIZES,
  FILE_TYPE,
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_VERSION,
  GgmlType,
  GgufValueType,
  READABLE_TYPES,
  WRITE_TYPES,
  ggmlTypeName,
  type GgufWriteType,
} from './constants.js';
export { bf16ToFloat, floatToHalf, halfToFloat } from './half.js';
export { dequantize, quantize, tensorBytes } from './quants.js';
export { GgufReader, metadataValue, readGgufHeader, tensorIssues, type GgufHeader, type GgufScalar, type GgufTensorInfo, type GgufValue } from './reader.js';
export { gguf, writeGguf, type GgufTensorToWrite } from './writer.js';
export { PRE_TOKENIZERS, TokenType, preTokenizerName, tokenizerFromMetadata, tokenizerIssues, tokenizerMetadata } from './tokenizer.js';
