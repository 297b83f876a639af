import 'reflect-metadata';
import { silenceCpuBanner } from './backend/cpu-banner.js';

silenceCpuBanner();

// ---- pipelines: run, validate, compose stages from code ----
export { Rankwise, createRankwise, type RankwiseOptions } from './pipeline/rankwise.js';
export { Session, type SessionOptions } from './pipeline/session.js';
export { RunFailed, type RunOptions, type RunResult, type RunSummary, type RunStatus } from './pipeline/runner.js';
export type { ObservedRun, RunListener, RunObserver } from './pipeline/observer.js';
export type { ValidatedPipeline, ValidateOptions, PipelineCheck } from './pipeline/validate.js';
export { PipelineValidationError, formatIssue, type ValidationIssue } from './pipeline/issues.js';
export { parseOverride, applyOverrides, type Override } from './pipeline/overrides.js';
export { Services } from './pipeline/services.js';
export type * from './pipeline/types.js';
export { STAGE_NAMES } from './pipeline/types.js';

// ---- the pipeline schema (generated from the stage definitions) ----
export { PIPELINE_SCHEMA_PATH, pipelineSchema } from './pipeline/schema.js';
export { buildPipelineSchema, type SchemaSources } from './pipeline/schema-build.js';

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
export type {
  AdapterService,
  AnyStageDefinition,
  DataService,
  ModelService,
  StageContext,
  StageDefinition,
} from './contracts/stage.js';
export type { TaskData } from './contracts/task-data.js';
export type { ResolvedBackend } from './backend/resolve.js';
export { PLUGIN_KEYWORD, type InstalledPlugin } from './plugins/registry.js';

// ---- backends ----
export {
  resolveBackend,
  describeBackend,
  activeBackend,
  BackendUnavailableError,
  BACKEND_REQUESTS,
} from './backend/resolve.js';
export type { BackendRequest, SkippedBackend, ResolveOptions } from './backend/resolve.js';
export { BACKEND_NAMES, type BackendCandidate, type BackendName } from './backend/candidates.js';
export { defaultModuleLoader, type ModuleLoader } from './backend/module-loader.js';
export type {
  BackendProvider,
  BackendStartResult,
  BackendStarted,
  BackendUnavailable,
  BackendStartOptions,
  AdamSpec,
} from './backend/provider.js';

export { capIssues } from './pipeline/issues.js';

// ---- models, LoRA and file formats: the names most code needs; everything else is in @rankwise/models, @rankwise/lora
// and @rankwise/formats ----
export {
  Rng,
  Module,
  Linear,
  type LinearOptions,
  Embedding,
  Mlp,
  type MlpConfig,
  Gpt,
  type GptConfig,
  Llama,
  type LlamaConfig,
  listSites,
  createModel,
  architectureNames,
} from '@rankwise/models';
export {
  loraScaling,
  type LoraOptions,
  injectLora,
  mergeAndUnload,
  freeze,
  parameterReport,
  type ParameterReport,
  setAdapter,
  withAdapter,
  addWeightedAdapter,
} from '@rankwise/lora';
export {
  loadTfjsModel,
  saveTfjsModel,
  loadHuggingFaceModel,
  saveHuggingFaceModel,
  readSafetensorsFile,
  writeSafetensorsFile,
  saveGgufModel,
  loadGgufModel,
  saveCheckpoint,
  loadCheckpoint,
  saveAdapter,
  loadAdapter,
} from '@rankwise/formats';

// ---- subpaths: @rankwise/core/training, @rankwise/core/runs (see their files), @rankwise/core/plugin, @rankwise/core/internal ----
