import 'reflect-metadata';
import { silenceCpuBanner } from './backend/cpu-banner.js';

silenceCpuBanner();

// ---- pipelines: run, validate, compose stages from code ----
export { Rankwise, createRankwise, type RankwiseOptions } from './pipeline/rankwise.js';
export { Session, type SessionOptions } from './pipeline/session.js';
export { RunFailed, type RunOptions, type RunResult, type RunSummary, type RunStatus } from './pipeline/runner.js';
export type { ObservedRun, RunListener, RunObserver } from './pipeline/observer.js';
export type { ValidatedPipeline, ValidateOptions, PipelineCheck } from './pipeline/validate.js';
export { PipelineValidationError, formatIssue, escapePointer, type ValidationIssue } from './pipeline/issues.js';
export { parseOverride, applyOverrides, type Override } from './pipeline/overrides.js';
export { Services } from './pipeline/services.js';
export type * from './pipeline/types.js';
export { STAGE_NAMES } from './pipeline/types.js';

// ---- the pipeline schema (generated from the stage definitions) ----
export { PIPELINE_SCHEMA_PATH, pipelineSchema } from './pipeline/schema.js';
export { buildPipelineSchema, PACKAGE_NAME_PATTERN, type SchemaSources } from './pipeline/schema-build.js';

// ---- stages and plugins (the plugin API, also at @rankwise/core/plugin) ----
export { BUILTIN_STAGES } from './stages/builtin.js';
export type { LoadResult } from './stages/load.js';
export type { InjectResult } from './stages/inject.js';
export type { SaveResult } from './stages/save.js';
export type { MergeResult } from './stages/merge.js';
export type { FreezeResult } from './stages/freeze.js';
export type { UnfreezeResult } from './stages/unfreeze.js';
export * from './plugin.js';
// …with the context's model, adapters, data and backend as TensorFlow.js objects (the plugin entry has views of them)
export { defineStage } from './contracts/stage.js';
export type { AdapterService, AnyStageDefinition, DataService, ModelService, StageContext, StageDefinition } from './contracts/stage.js';
export type { TaskData } from './contracts/task-data.js';
export type { Model } from './nn/model.js';
export type { ResolvedBackend } from './backend/resolve.js';
export { PLUGIN_KEYWORD, type InstalledPlugin } from './plugins/registry.js';

// ---- modules and models ----
export { Rng, hashString } from './random.js';
export { Module, countParameters } from './nn/module.js';
export { Linear, buildQuantized, transposeValues, type LinearOptions } from './nn/linear.js';
export { quantizeModel, quantizedLinears, quantizableLinear, quantizeReport, type QuantizeReport } from './nn/quantize-model.js';
export { quantizedMatMul, QUANTIZED_MATMUL_KERNEL } from './nn/quantized-matmul.js';
export { Embedding } from './nn/embedding.js';
export { LayerNorm } from './nn/layer-norm.js';
export { Activation, activate, gelu, ACTIVATIONS, type ActivationName } from './nn/activations.js';
export { Dropout } from './nn/dropout.js';
export { Sequential } from './nn/sequential.js';
export { Mlp, describeMlp, type MlpConfig } from './nn/mlp.js';
export { Gpt, describeGpt, type GptConfig } from './nn/gpt.js';
export { Llama, describeLlama, LLAMA_MODEL_TYPES, type LlamaConfig } from './nn/llama.js';
export { RmsNorm } from './nn/rmsnorm.js';
export { RotaryEmbedding } from './nn/rotary.js';
export { ropeFrequencies, checkRopeScaling, rotaryDimOf, ROPE_TYPES, type RopeFrequencies, type RopeSettings, type RopeType } from './nn/rope-scaling.js';
export { FAMILIES, gemmaEmbeddingScale, type ModelFamily, type FamilyActivation } from './nn/families/index.js';
export { CausalSelfAttention, causalMask } from './nn/attention.js';
export { listSites } from './nn/site.js';
export { registerArchitecture, createModel, architectureNames, getArchitecture, describeModel, type Architecture } from './nn/architectures.js';

// ---- LoRA ----
export { LoraLinear, loraScaling, type LoraOptions } from './lora/lora-linear.js';
export { LoraLayer, type AdaptableModule, type LoraKind } from './lora/lora-layer.js';
export { LoraConv2d } from './lora/lora-conv2d.js';
export { LoraEmbedding } from './lora/lora-embedding.js';
export { Conv2d, type Conv2dGeometry } from './nn/conv2d.js';
export { EmbeddingSite } from './nn/embedding-site.js';
export { TfjsLayersModel, FrozenLayer } from './nn/layers-model.js';
export { analyseTopology, describeTopology, ADAPTABLE_CLASSES, type KerasTopology } from './nn/keras-topology.js';
export { inspectTfjsModel, loadTfjsModel, resolveModelJson, TfjsModelError, type TfjsModelFiles } from './io/tfjs-model.js';
export { saveTfjsModel, tfjsFileSaver } from './io/tfjs-save.js';
export { injectLora, loraLayers, type InjectTarget } from './lora/inject.js';
export { injectAdapters } from './lora/inject.js';
export type { InitialAdapter } from './lora/lora-linear.js';
export { pissaFactors, oloraFactors, householderQr, type InitialFactors } from './lora/init.js';
export { LORA_INITS, BUILTIN_LORA_VARIANTS, BUILTIN_LORA_INITS, registerLoraVariant, unregisterLoraVariant, loraVariant, loraVariants, LORA_VARIANT_OPTION_KEYS, initOptionSchema, rsloraOptionSchema, variantOptionSchemas, type LoraInit } from './lora/variants/registry.js';
export type { LoraVariant, LoraVariantTensor, LoraInitMethod, VariantAdapter, VariantBase, VariantForwardInput } from './lora/variants/types.js';
export { weightNorm, doraMergedWeight } from './lora/dora.js';
export { toOriginalBase } from './io/adapter-conversion.js';
export { GroupedOptimizer, inLoraPlusFastGroup } from './train/lora-plus.js';
export {
  QUANT_TYPES, quantizedBytes, type Bf16Weight, type Int8Weight, type Nf4Weight, type QuantizedWeight, type QuantType,
  DYNAMIC_CODE, NF4_CODE, NF4_BLOCK, NF4_ABSMAX_BLOCK, quantizeNf4, dequantizeNf4Rows, nf4BlockScales,
  quantizeInt8Rows, dequantizeInt8Rows, quantizeBf16, dequantizeBf16Rows, quantizeWeight, dequantizeWeight, dequantizeRows,
} from './quant/index.js';
export { setGradientCheckpointing, checkpointedForward, CHECKPOINTABLE_ARCHITECTURES } from './train/gradient-checkpointing.js';
export { mergeAdapters, unmergeAdapters, mergeAndUnload } from './lora/merge.js';
export { freeze, unfreeze } from './lora/freeze.js';
export { parameterReport, type ParameterReport } from './lora/parameter-report.js';
// ---- several adapters on one base (PEFT's set_adapter, add_weighted_adapter, …): docs/adapters.md ----
export { DEFAULT_ADAPTER, checkAdapterName, type LoraAdapter } from './lora/lora-layer.js';
export { adapterNames, activeAdapters, adaptersDisabled, setAdapter, disableAdapters, enableAdapters, deleteAdapter, withAdapter, withRowAdapters, type SetAdapterOptions } from './lora/adapters.js';
export { addWeightedAdapter } from './lora/weighted-adapter.js';
export { combineAdapterFolders } from './io/combine-adapters.js';
export { parseAdapterSpec, type AdapterSource } from './io/adapter-spec.js';
export { COMBINATION_TYPES, CombineError, checkCombination, combineFactors, deltaOf, type CombinationType, type CombineOptions, type CombinedSite, type SiteFactors, type SiteShape, type DareFactor } from './lora/combine.js';
export { applyRule, magnitudePrune, randomPrune, disjointMerge, taskArithmetic, MAJORITY_SIGN_METHODS, type MajoritySignMethod, type TaskRule } from './lora/combine-rules.js';

// ---- files: safetensors, checkpoints, PEFT adapters ----
export { decodeSafetensors, encodeSafetensors, halfToFloat, SafetensorsError, MAX_HEADER_BYTES } from './io/safetensors.js';
export type { NamedFloat32, SafetensorsContents, SafetensorsDtype } from './io/safetensors.js';
export { parseSafetensorsHeader, toFloat32, type SafetensorsEntry, type SafetensorsHeader } from './io/safetensors.js';
export { SafetensorsReader, writeSafetensorsStreaming, type PendingTensor } from './io/safetensors-stream.js';
export {
  loadHuggingFaceModel, saveHuggingFaceModel, readHuggingFaceConfig, openHuggingFaceWeights, huggingFaceTensors, huggingFaceConfigJson,
  isHuggingFaceDir, isHuggingFaceConfig, HF_CONFIG, HF_WEIGHTS, HF_INDEX, HF_TOKENIZER_FILES, type HuggingFaceModelInfo, type SaveHuggingFaceOptions,
} from './io/huggingface.js';
export { readSafetensorsFile, writeSafetensorsFile } from './io/tensor-file.js';
export {
  saveGgufModel, loadGgufModel, checkGgufModel, llamaGgufModel, llamaGgufTensors, llamaGgufMetadata, ggufTensorName, ggufModuleName, permuteRotaryRows,
  GGUF_ARCHITECTURES, type GgufModelCheck, type SaveGgufOptions,
} from './io/gguf-llama.js';
export { peftToGgufAdapter, ggufAdapterToPeft, readGgufAdapter, checkGgufAdapter, hfModulePath, type GgufAdapterSite } from './io/gguf-adapter.js';
export { saveCheckpoint, loadCheckpoint, loadWeightsInto, readCheckpointConfig, type CheckpointConfig, type SaveCheckpointOptions } from './io/checkpoint.js';
export { saveAdapter, saveAdapterSites, saveNamedAdapters, adapterFolder, type NamedAdapterSites, loadAdapter, readAdapter, planAdapter, readAdapterConfig, snapshotAdapter, ADAPTER_CONFIG, ADAPTER_WEIGHTS, RANKWISE_METADATA } from './io/peft-adapter.js';
export type { AdapterSite, AdapterSnapshot, AdapterSaveOptions, StoredAdapterSite, PlannedAdapterSite } from './io/peft-adapter.js';
export { parsePeftConfig, peftTargetSites, peftPatternValue, peftSiteSettings, buildPeftConfig, PeftConfigError, type PeftLoraConfig, type SiteSettings } from './io/peft-config.js';

// ---- backends ----
export { resolveBackend, describeBackend, activeBackend, BackendUnavailableError, BACKEND_REQUESTS } from './backend/resolve.js';
export type { BackendRequest, SkippedBackend, ResolveOptions } from './backend/resolve.js';
export { defaultCandidates, BACKEND_NAMES, type BackendCandidate, type BackendName } from './backend/candidates.js';
export { defaultModuleLoader, type ModuleLoader } from './backend/module-loader.js';
export type { BackendProvider, BackendStartResult, BackendStarted, BackendUnavailable, BackendStartOptions, AdamSpec } from './backend/provider.js';

// ---- training and tasks ----
export { sparseSoftmaxCrossEntropy, accuracy, maskedSoftmaxCrossEntropy, IGNORED_LABEL } from './train/loss.js';
export { clipByGlobalNorm, globalNorm } from './train/clip.js';
export { trainStep, type StepInput, type StepOutput } from './train/step.js';
export { releaseDuringBackprop } from './train/release-backprop.js';
export { createOptimizer, type OptimizerSpec, type OptimizerName, type ScheduledOptimizer } from './train/optimizer.js';
export { learningRateAt } from './train/schedule.js';
export { trainLoop, type TrainLoopOptions, type LogRecord } from './train/loop.js';
export { classificationTask } from './tasks/classification.js';
export { languageModelTask, windowStarts } from './tasks/language-model.js';
export { sampleText, type SampleOptions } from './tasks/sample.js';
export { KvCache, isCachedDecoder, type CachedDecoder, type CacheStep } from './nn/kv-cache.js';
export { generateTokens, type GenerateOptions, type Generated } from './generation/generate.js';
export { chooseToken, GREEDY, type SamplingOptions } from './generation/logits-processing.js';
export { chatFormat, PLAIN_CHAT, type ChatFormat, type ChatMessage } from './generation/chat-template.js';
export { TextStream } from './generation/text-stream.js';
export { readPromptsFile, type PromptLine } from './generation/prompts-file.js';
export { generateTexts, eosIds, bannedIds, type Completion, type TextGenerationOptions } from './generation/generate-text.js';

// ---- progress ----
export { LineProgress, SilentProgress, formatDuration, formatFields } from './progress/reporter.js';
export { RateMeter, formatSpeed } from './progress/rate-meter.js';
export { formatMetric } from './progress/format-metric.js';

export { atomicWriteFile, atomicDirectory } from './io/atomic-write.js';
export { describeFsError, isFsError, readableFsError } from './io/fs-errors.js';
export { parseJsonText, decodeUtf8, MAX_JSON_DEPTH } from './io/json-text.js';
export { nonFiniteAsString } from './io/json-numbers.js';
export { readSafetensorsHeaderFile } from './io/tensor-file.js';
export { RunFolder, listRuns, observedStatus, pointLatestAt, finishActiveRunsSync, readSummary, type RunEntry, type ObservedStatus, type RecordedStatus } from './run/run-folder.js';
export { FileLock } from './run/lock.js';
export { ResumeError, resolveResumeTarget, CHECKPOINTS_DIR } from './run/open-run.js';
export { TrainingDiverged, type DivergenceRule } from './train/finite-guard.js';
export { saveTrainCheckpoint, restoreTrainCheckpoint, listCheckpoints, type LoopState } from './train/checkpoint.js';
export { capIssues, MAX_ISSUES_PER_FILE } from './pipeline/issues.js';
