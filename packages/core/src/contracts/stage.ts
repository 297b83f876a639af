import type { ResolvedBackend } from '../backend/resolve.js';
import type { AdapterSnapshot } from '@rankwise/formats';
import type { JsonObject, Model } from '@rankwise/models';
import type { DataSpec } from './data-schema.js';
import type { TaskData } from './task-data.js';
import type {
  AdapterService as AdapterServiceView,
  StageDefinitionIn,
  DataService as DataServiceView,
  ModelService as ModelServiceView,
  StageContext as StageContextView,
} from './stage-view.js';

/*
 * Core's stage contract: the plugin-facing one (stage-view.ts, what `@rankwise/core/plugin` publishes, standalone
 * types) with the model, adapters, data and backend typed as TensorFlow.js objects. Each interface here extends its
 * view, so the compiler checks that what core passes a stage fits what a stage package was promised.
 */

export {
  isStageDefinition,
  type AdapterSiteLike,
  type AdapterSnapshotLike,
  type Capability,
  type DataSummary,
  type DependencyInfo,
  type EvaluationRecord,
  type MetricsSink,
  type PipelineService,
  type PlacementService,
  type PlacementSpec,
  type RunDirectory,
  type RunRecords,
  type StageCheckContext,
  type StagePackages,
  type PipelineSections,
  type TaskDataLike,
  type TrainingRecord,
  type VocabularyService,
} from './stage-view.js';

/** The model of the run. */
export interface ModelService extends ModelServiceView {
  require(stage: string): Model;
  current(): Model | null;
  /**
   * Replaces the model (disposing the previous one); `origin` is where its base weights came from (for messages),
   * `baseModelId` PEFT's base_model_name_or_path (a Hub id or a path relative to the working directory; null, the
   * default, for models built here).
   */
  set(model: Model, origin: string, baseModelId?: string | null): void;
}

/** Adapters kept aside by `merge` so `save` can still write them. */
export interface AdapterService extends AdapterServiceView {
  readonly snapshot: AdapterSnapshot | null;
  /** Keeps `snapshot` (disposing the one before). */
  keep(snapshot: AdapterSnapshot): void;
}

/** Data sources and task wrapping. */
export interface DataService extends DataServiceView {
  /** Loads `spec` and wraps it for the current model's task; `seed` orders training batches. */
  prepare(spec: DataSpec, seed: number): Promise<TaskData>;
}

/** Everything a stage can use while it runs. */
export interface StageContext extends StageContextView {
  readonly backend: ResolvedBackend;
  readonly model: ModelService;
  readonly adapters: AdapterService;
  readonly data: DataService;
}

/**
 * One stage (stage-view.ts's StageDefinitionIn) run with core's context: what `run` returns is what `session.stage()`
 * returns. Stage packages see the same shape through `@rankwise/core/plugin`, with the context's model and tensors
 * as structural views.
 */
export type StageDefinition<Options = JsonObject, Result = unknown, Name extends string = string> = StageDefinitionIn<StageContext, Options, Result, Name>;

/** A stage definition of any options and result (for registries and lists; callers pass validated options). */
export type AnyStageDefinition = StageDefinition<never, unknown>;

/** Returns its argument; exists for type inference (`Name`: the literal name, so the registry can derive types). */
export function defineStage<Options = JsonObject, Result = unknown, Name extends string = string>(
  stage: StageDefinition<Options, Result, Name>,
): StageDefinition<Options, Result, Name> {
  return stage;
}

/** The options, result and name types of a stage definition. */
export type StageOptionsOf<D> = D extends StageDefinition<infer O, unknown, string> ? O : never;
export type StageResultOf<D> = D extends { run(...args: never[]): infer R } ? Awaited<R> : never;
