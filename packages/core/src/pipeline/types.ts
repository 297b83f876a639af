import type { BackendRequest } from '../backend/resolve.js';
import type { PipelineSections, StageOptionsOf, StagePackages, StageResultOf } from '../contracts/stage.js';
import type { BuiltinStageDefinition, StageName } from '../stages/builtin.js';
import type { EvaluateOptions } from '../stages/evaluate.js';
import type { OptimizerOptions, TrainOptions } from '../stages/train.js';

export type { CorpusSpec, DataSpec, DigitsDataSpec, DigitTransformName, TextDataSpec } from '../contracts/data-schema.js';
export type { PlacementSpec } from '../contracts/stage.js';
export type { PipelineSection } from './section.js';
export type { StageName } from '../stages/builtin.js';
export { STAGE_NAMES } from '../stages/builtin.js';

/**
 * TypeScript view of a pipeline file; every stage's options type is `Static<>` of its TypeBox schema. Keys other
 * packages own (`grid`) come from `PipelineSections`.
 */
export interface Pipeline extends PipelineSections {
  $schema?: string;
  name: string;
  description?: string;
  seed?: number;
  backend?: BackendRequest;
  /** Accept sizes validation refuses as likely mistakes (over 10 million steps, training state beyond memory). */
  allowLargeRuns?: boolean;
  /** Built-in stages and the stage packages declared in `StagePackages` (a JSON file may name any package). */
  stages: StageSpec[];
}

/** A stage object in a pipeline: `stage` (its name), an optional `label`, and the stage's options. */
export type StageObject<Name extends string, Options> = { stage: Name; label?: string } & Options;

/** Each built-in stage's object type, derived from its definition in the registry (stages/builtin.ts). */
export type BuiltinStageSpecs = { [D in BuiltinStageDefinition as D['name']]: StageObject<D['name'], StageOptionsOf<D>> };
export type LoadStageSpec = BuiltinStageSpecs['load'];
export type FreezeStageSpec = BuiltinStageSpecs['freeze'];
export type UnfreezeStageSpec = BuiltinStageSpecs['unfreeze'];
export type InjectStageSpec = BuiltinStageSpecs['inject'];
export type TrainStageSpec = BuiltinStageSpecs['train'];
export type EvaluateStageSpec = BuiltinStageSpecs['evaluate'];
export type MergeStageSpec = BuiltinStageSpecs['merge'];
export type SaveStageSpec = BuiltinStageSpecs['save'];
export type GenerateStageSpec = BuiltinStageSpecs['generate'];
export type OptimizerStageSpec = OptimizerOptions;
export type ScheduleSpec = NonNullable<TrainOptions['schedule']>;
export type SamplesSpec = NonNullable<EvaluateOptions['samples']>;

/** The stage objects of the stage packages declared in `StagePackages`, with their own options. */
export type DeclaredPackageStageSpec = {
  [N in keyof StagePackages & string]: StageObject<N, StagePackages[N] extends { options: infer O } ? O : never>;
}[keyof StagePackages & string];

/**
 * A stage of a package that declares no types: a scoped or hyphenated npm name (`@acme/x`, `rankwise-stage-x`)
 * and options of any shape. Built-in names (`inject`, …) never match it, so a built-in stage's options are always
 * checked.
 */
export type ExternalStageSpec = { stage: `@${string}/${string}` | `${string}-${string}`; label?: string; [option: string]: unknown };

export type BuiltinStageSpec = BuiltinStageSpecs[StageName];

export type StageSpec = BuiltinStageSpec | DeclaredPackageStageSpec;

/** What each built-in stage returns (and `session.stage()` resolves to), derived from the registry. */
export type StageResults = { [D in BuiltinStageDefinition as D['name']]: StageResultOf<D> };

/** What `session.stage(spec)` resolves to: a built-in's result, a declared package's result, else unknown. */
export type StageResult<S> = S extends { stage: infer N }
  ? N extends StageName
    ? StageResults[N]
    : N extends keyof StagePackages
      ? StagePackages[N] extends { result: infer R }
        ? R
        : unknown
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
