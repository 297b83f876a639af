/**
 * `@rankwise/lora`: LoRA for rankwise models: LoRA layers (linear, embedding, conv2d), DoRA, init (gaussian, PiSSA, OLoRA), inject, merge, combine, freeze, parameter reports.
 * First written by the core split (commit d8fd200) from what the other packages import.
 */
export {
  activeAdapters,
  adapterNames,
  adaptersDisabled,
  deleteAdapter,
  disableAdapters,
  enableAdapters,
  setAdapter,
  type SetAdapterOptions,
  withAdapter,
  withRowAdapters,
} from './adapters.js';
export {
  checkCombination,
  COMBINATION_TYPES,
  type CombinationType,
  type CombinedSite,
  CombineError,
  combineFactors,
  type CombineOptions,
  type DareFactor,
  type SiteFactors,
  type SiteShape,
} from './combine.js';
export type { MajoritySignMethod, TaskRule } from './combine-rules.js';
export { weightNorm } from './dora.js';
export { freeze, unfreeze } from './freeze.js';
export { forgetLoadedAdapters, freezeLoadedAdapters, trainLoadedAdapters } from './inference-mode.js';
export type { InitialFactors } from './init.js';
export { injectAdapters, injectLora, type InjectTarget, loraLayers } from './inject.js';
export { LoraConv2d } from './lora-conv2d.js';
export { LoraEmbedding } from './lora-embedding.js';
export {
  type AdaptableModule,
  checkAdapterName,
  DEFAULT_ADAPTER,
  type LoraAdapter,
  type LoraKind,
  LoraLayer,
  loraScaling,
} from './lora-layer.js';
export { type InitialAdapter, LoraLinear, type LoraOptions } from './lora-linear.js';
export { mergeAdapters, mergeAndUnload, unmergeAdapters } from './merge.js';
export { parameterReport, type ParameterReport } from './parameter-report.js';
export {
  BUILTIN_LORA_INITS,
  BUILTIN_LORA_VARIANTS,
  initFromPeft,
  initMovesBase,
  initOptionSchema,
  linearOnlySummary,
  LORA_VARIANT_OPTION_KEYS,
  type LoraInit,
  loraVariant,
  loraVariants,
  matchVariantTensor,
  peftInitValue,
  peftInitValues,
  PLAIN_LORA,
  registerLoraVariant,
  rsloraOptionSchema,
  unregisterLoraVariant,
  variantOf,
  variantOptionSchemas,
  variantTensorNames,
  variantTensorShape,
} from './variants/registry.js';
export { rsloraScaling } from './variants/rslora.js';
export type {
  LoraInitMethod,
  LoraVariant,
  LoraVariantTensor,
  VariantAdapter,
  VariantBase,
  VariantForwardInput,
} from './variants/types.js';
export { addWeightedAdapter } from './weighted-adapter.js';
