import type { BackendRequest } from '../backend/resolve.js';
import type { EvaluationRecord, TrainingRecord } from '../contracts/stage.js';
import type { StageName } from '../stages/builtin.js';
import type { EvaluateOptions } from '../stages/evaluate.js';
import type { FreezeResult } from '../stages/freeze.js';
import type { GenerateOptions, GenerateResult } from '../stages/generate.js';
import type { InjectOptions, InjectResult } from '../stages/inject.js';
import type { LoadOptions, LoadResult } from '../stages/load.js';
import type { MergeResult } from '../stages/merge.js';
import type { SaveOptions, SaveResult } from '../stages/save.js';
import type { OptimizerOptions, TrainOptions } from '../stages/train.js';
import type { UnfreezeResult } from '../stages/unfreeze.js';
import type { GridSpec } from './grid-schema.js';

export type { CorpusSpec, DataSpec, DigitsDataSpec, DigitTransformName, TextDataSpec } from '../contracts/data-schema.js';
export type { PlacementSpec } from '../contracts/stage.js';
export type { GridPlacementSpec, GridSpec, GridVariantSpec } from './grid-schema.js';
export type { StageName } from '../stages/builtin.js';
export { STAGE_NAMES } from '../stages/builtin.js';

/** TypeScript view of a pipeline file; every stage's options type is `Static<>` of its TypeBox schema. */
export interface Pipeline {
  $schema?: string;
  name: string;
  description?: string;
  seed?: number;
  backend?: BackendRequest;
  /** Accept sizes validation refuses as likely mistakes (over 10 million steps, training state beyond memory). */
  allowLargeRuns?: boolean;
  stages: StageSpec[];
  grid?: GridSpec;
}

/** A stage object in a pipeline: `stage` (its name), an optional `label`, and the stage's options. */
export type StageObject<Name extends string, Options> = { stage: Name; label?: string } & Options;

export type LoadStageSpec = StageObject<'load', LoadOptions>;
export type FreezeStageSpec = StageObject<'freeze', Record<never, never>>;
export type UnfreezeStageSpec = StageObject<'unfreeze', Record<never, never>>;
export type InjectStageSpec = StageObject<'inject', InjectOptions>;
export type TrainStageSpec = StageObject<'train', TrainOptions>;
export type EvaluateStageSpec = StageObject<'evaluate', EvaluateOptions>;
export type MergeStageSpec = StageObject<'merge', Record<never, never>>;
export type SaveStageSpec = StageObject<'save', SaveOptions>;
export type GenerateStageSpec = StageObject<'generate', GenerateOptions>;
export type OptimizerStageSpec = OptimizerOptions;
export type ScheduleSpec = NonNullable<TrainOptions['schedule']>;
export type SamplesSpec = NonNullable<EvaluateOptions['samples']>;

/** A stage from a stage package: its package name and its own options. */
export type ExternalStageSpec = { stage: string; label?: string; [option: string]: unknown };

export type BuiltinStageSpec =
  | LoadStageSpec | FreezeStageSpec | UnfreezeStageSpec | InjectStageSpec | TrainStageSpec
  | EvaluateStageSpec | MergeStageSpec | SaveStageSpec | GenerateStageSpec;

export type StageSpec = BuiltinStageSpec;

/** What each built-in stage returns (and `session.stage()` resolves to). */
export interface StageResults {
  load: LoadResult;
  freeze: FreezeResult;
  unfreeze: UnfreezeResult;
  inject: InjectResult;
  train: TrainingRecord;
  evaluate: EvaluationRecord;
  merge: MergeResult;
  save: SaveResult;
  generate: GenerateResult;
}

export type StageResult<S> = S extends { stage: infer N } ? (N extends StageName ? StageResults[N] : unknown) : unknown;
