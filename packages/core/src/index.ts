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
export type { BackendProvider, BackendStartResult, BackendStarted, BackendUnavailable, BackendStartOptions, AdamSpec } from './backend/provider.js';

export { sparseSoftmaxCrossEntropy, accuracy } from './train/loss.js';
export { clipByGlobalNorm, globalNorm } from './train/clip.js';
export { trainStep, type StepInput, type StepOutput } from './train/step.js';
export { createOptimizer, type OptimizerSpec, type OptimizerName, type ScheduledOptimizer } from './train/optimizer.js';

export { TOKENS, stageToken } from './tokens.js';
export { definePlacementPlugin, PlacementError, type PlacementPlugin, type PlacementChoice } from './plugins/placement.js';
export { PluginRegistry, pluginPackageName, PLUGIN_KEYWORD, type InstalledPlugin } from './plugins/registry.js';
export { ConfigError, type ModelDescription } from './nn/description.js';
export { getArchitecture, describeModel } from './nn/architectures.js';
export { saveAdapter, saveAdapterSites, loadAdapter, readAdapter, readAdapterConfig, snapshotAdapter, ADAPTER_CONFIG, ADAPTER_WEIGHTS } from './io/peft-adapter.js';
export type { AdapterSite, AdapterSnapshot, StoredAdapterSite } from './io/peft-adapter.js';
export type { SaveCheckpointOptions } from './io/checkpoint.js';

export { Rankwise, createRankwise, type RankwiseOptions } from './pipeline/rankwise.js';
export { Session, type SessionOptions } from './pipeline/session.js';
export { PipelineRunner, RunFailed, findArtifact, createRunDir, type ArtifactOptions, type RunOptions, type RunResult, type RunSummary, type RunStatus } from './pipeline/runner.js';
export { RunContext, type EvaluationRecord, type TrainingRecord } from './pipeline/run-context.js';
export { PipelineValidationError, formatIssue, escapePointer, type ValidationIssue } from './pipeline/issues.js';
export { parseOverride, applyOverrides, type Override } from './pipeline/overrides.js';
export { PIPELINE_SCHEMA_PATH, pipelineSchema } from './pipeline/schema.js';
export { STAGE_NAMES } from './pipeline/types.js';
export type * from './pipeline/types.js';
export type { DatasetSource, ClassificationArrays, TextArrays, Vocabulary } from './pipeline/datasets.js';
export { RunInterrupted, type Stage } from './stages/stage.js';
export { STAGE_CLASSES } from './stages/register.js';
export { LineProgress, SilentProgress, type ProgressReporter, type ProgressTask, type ProgressFields, formatDuration, formatFields, rate } from './progress/reporter.js';
export { learningRateAt } from './train/schedule.js';
export { trainLoop, type TrainLoopOptions, type LogRecord } from './train/loop.js';
export { classificationTask } from './tasks/classification.js';
export type { TaskData } from './tasks/task-data.js';
export type { ValidatedPipeline, ValidateOptions } from './pipeline/validate.js';
export { Gpt, describeGpt, type GptConfig } from './nn/gpt.js';
export { CausalSelfAttention, causalMask } from './nn/attention.js';
export { describeMlp } from './nn/mlp.js';
export { expandGrid, gridAlpha, FULL_FINE_TUNING, type GridCellPlan } from './pipeline/grid-expand.js';
export { TASK_METRICS } from './pipeline/grid-check.js';
export { languageModelTask, windowStarts } from './tasks/language-model.js';
export { sampleText, type SampleOptions } from './tasks/sample.js';
export { formatMetric } from './progress/format-metric.js';
