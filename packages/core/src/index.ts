import 'reflect-metadata';

export { Rng, hashString } from './random.js';

export { Module, countParameters } from './nn/module.js';
export { Model, type JsonObject, type JsonValue, type ModelTask } from './nn/model.js';
export { Linear, type LinearOptions } from './nn/linear.js';
export { Embedding } from './nn/embedding.js';
export { LayerNorm } from './nn/layer-norm.js';
export { Activation, activate, gelu, ACTIVATIONS, type ActivationName } from './nn/activations.js';
export { Dropout } from './nn/dropout.js';
export { Sequential } from './nn/sequential.js';
export { Mlp, type MlpConfig } from './nn/mlp.js';
export { listSites, type Site } from './nn/site.js';
export { registerArchitecture, createModel, architectureNames, type Architecture } from './nn/architectures.js';

export { LoraLinear, loraScaling, type LoraOptions } from './lora/lora-linear.js';
export { injectLora, loraLayers, type InjectTarget } from './lora/inject.js';
export { mergeAdapters, unmergeAdapters, mergeAndUnload } from './lora/merge.js';
export { freeze, unfreeze } from './lora/freeze.js';
export { parameterReport, type ParameterReport } from './lora/parameter-report.js';

export { decodeSafetensors, encodeSafetensors, halfToFloat, SafetensorsError, MAX_HEADER_BYTES } from './io/safetensors.js';
export type { NamedFloat32, SafetensorsContents, SafetensorsDtype } from './io/safetensors.js';
export { readSafetensorsFile, writeSafetensorsFile } from './io/tensor-file.js';
export { saveCheckpoint, loadCheckpoint, loadWeightsInto, readCheckpointConfig, type CheckpointConfig } from './io/checkpoint.js';

export { resolveBackend, describeBackend, activeBackend, BackendUnavailableError, BACKEND_REQUESTS } from './backend/resolve.js';
export type { ResolvedBackend, BackendRequest, SkippedBackend, ResolveOptions } from './backend/resolve.js';
export { defaultCandidates, BACKEND_NAMES, type BackendCandidate, type BackendName } from './backend/candidates.js';
export { defaultModuleLoader, type ModuleLoader } from './backend/module-loader.js';
export type { BackendProvider, BackendStartResult, BackendStarted, BackendUnavailable, AdamSpec } from './backend/provider.js';

export { sparseSoftmaxCrossEntropy, accuracy } from './train/loss.js';
export { clipByGlobalNorm } from './train/clip.js';
export { trainStep, type StepInput, type StepOutput } from './train/step.js';
export { createOptimizer, type OptimizerSpec, type OptimizerName, type ScheduledOptimizer } from './train/optimizer.js';
