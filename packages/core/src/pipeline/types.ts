import type { BackendRequest } from '../backend/resolve.js';
import type { EvaluationRecord, StagePackages, TrainingRecord } from '../contracts/stage.js';
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
  /** Built-in stages and the stage packages declared in `StagePackages` (a JSON file may name any package). */
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


/** The stage objects of the stage packages declared in `StagePackages`, with their own options. */
export type DeclaredPackageStageSpec = { [N in keyof StagePackages & string]: StageObject<N, StagePackages[N] extends { options: infer O } ? O : never> }[keyof StagePackages & string];

/**
 * A stage of a package that declares no types: a scoped or hyphenated npm name (`@acme/x`, `rankwise-stage-x`)
 * and options of any shape. Built-in names (`inject`, …) never match it, so a built-in stage's options are always
 * checked.
 */
export type ExternalStageSpec = { stage: `@${string}/${string}` | `${string}-${string}`; label?: string; [option: string]: unknown };

export type BuiltinStageSpec =
  | LoadStageSpec | FreezeStageSpec | UnfreezeStageSpec | InjectStageSpec | TrainStageSpec
  | EvaluateStageSpec | MergeStageSpec | SaveStageSpec | GenerateStageSpec;

export type StageSpec = BuiltinStageSpec | DeclaredPackageStageSpec;

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

/** What `session.stage(spec)` resolves to: a built-in's result, a declared package's result, else unknown. */
export type StageResult<S> = S extends { stage: infer N }
  ? N extends StageName
    ? StageResults[N]
    : N extends keyof StagePackages
      ? StagePackages[N] extends { result: infer R } ? R : unknown
      : unknown
  : unknown;

/**
 * The stage object `session.stage()` accepts for a given `stage` name: a built-in's or a declared package's own
 * options, else (an undeclared package) anything. Used as `spec: S & CheckedStageSpec<S>`, so a wrong option type
 * (`{ stage: 'inject', r: 'four' }`) does not compile.
 */
export type CheckedStageSpec<S> = S extends { stage: infer N }
  ? N extends StageName
    ? Extract<BuiltinStageSpec, { stage: N }>
    : N extends keyof StagePackages & string
      ? StageObject<N, StagePackages[N] extends { options: infer O } ? O : never>
      : ExternalStageSpec
  : never;
