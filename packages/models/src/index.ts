/**
 * `@rankwise/models`: Model modules for rankwise on TensorFlow.js: Module, Linear, Embedding, attention, RMSNorm, rotary, KV cache, the llama-style architectures and model families (llama, gemma, phi3), GPT, Keras layer models, sites and seeded random streams.
 * First written by the core split (commit d8fd200) from what the other packages import.
 */
export { Activation, type ActivationName, gelu } from './activations.js';
export {
  type Architecture,
  architectureNames,
  createModel,
  describeModel,
  getArchitecture,
  registerArchitecture,
} from './architectures.js';
export { CausalSelfAttention } from './attention.js';
export { Conv2d, type Conv2dGeometry, convolve } from './conv2d.js';
export { Dropout, seededDropout } from './dropout.js';
export { Embedding } from './embedding.js';
export { EmbeddingSite, lookup } from './embedding-site.js';
export {
  FAMILIES,
  type FamilyActivation,
  gemmaEmbeddingScale,
  type ModelFamily,
  NULLABLE_KEYS,
} from './families/index.js';
export { describeGpt, Gpt, type GptConfig } from './gpt.js';
export { kaimingUniform, normal } from './init.js';
export {
  ADAPTABLE_CLASSES,
  analyseTopology,
  describeTopology,
  type KerasTopology,
  TopologyError,
} from './keras-topology.js';
export { type CachedDecoder, type CacheStep, isCachedDecoder, type KvCache } from './kv-cache.js';
export { LayerNorm } from './layer-norm.js';
export { FrozenLayer, TfjsLayersModel } from './layers-model.js';
export {
  buildQuantized,
  flattenLeading,
  Linear,
  type LinearOptions,
  transposeValues,
  unflattenLeading,
} from './linear.js';
export { describeLlama, familyOf, Llama, LLAMA_MODEL_TYPES, type LlamaConfig, projectionBias } from './llama.js';
export { Mlp, type MlpConfig } from './mlp.js';
export type { JsonObject, JsonValue, Model } from './model.js';
export { countParameters, Module } from './module.js';
export {
  type Bf16Weight,
  dequantizeWeight,
  DYNAMIC_CODE,
  type Int8Weight,
  NF4_CODE,
  type Nf4Weight,
  quantizeBf16,
  type QuantizedWeight,
  quantizeInt8Rows,
  quantizeNf4,
} from './quant/index.js';
export { quantizeWeight } from './quant/quantize.js';
export type { QuantType } from './quant/types.js';
export { quantizableLinear, quantizedLinears, quantizeModel, type QuantizeReport } from './quantize-model.js';
export { QUANTIZED_MATMUL_KERNEL } from './quantized-matmul.js';
export { hashString, Rng } from './random.js';
export { RmsNorm } from './rmsnorm.js';
export {
  checkRopeScaling,
  ropeFrequencies,
  type RopeFrequencies,
  type RopeSettings,
  type RopeType,
} from './rope-scaling.js';
export { RotaryEmbedding } from './rotary.js';
export { Sequential } from './sequential.js';
export { listSites, type Site, type SiteModule } from './site.js';
