import type { BackendInfo } from '@rankwise/models/types/backend';
import type { JsonObject } from '@rankwise/models/types/json';
import type { Site } from '@rankwise/models/types/site';
import type { ModelLike, TensorLike } from '@rankwise/models/types/tensors';
import type { ModelDescription } from '@rankwise/models/description';
import type { PlacementChoice } from './placement.js';
import type { ProgressReporter } from '../progress/reporter.js';
import type { DataSpec } from './data-schema.js';
import type { DatasetFacts } from './dataset.js';
import type { DatasetSource, Vocabulary } from './datasets.js';

/*
 * The stage contract as `@rankwise/core/plugin` publishes it: standalone types (no TensorFlow.js, so a stage package
 * compiles under a strict tsconfig without `skipLibCheck`). The model, the adapters kept by merge, prepared data and
 * the backend appear through structural views (types/tensors.ts, types/backend.ts); core's own stage contract
 * (contracts/stage.ts) extends these interfaces with the TensorFlow.js-typed members, so the compiler checks that
 * every context core passes fits what a stage package was promised.
 */

/**
 * What a stage needs before it and leaves after it. Built-ins: `model` (a model is loaded), `adapter` (LoRA layers
 * are on the model, or an inject stage would put them there), `merged-adapter` (adapters were folded in and kept
 * aside for `save`), `frozen` (every base parameter is frozen), `vocabulary`. Stage packages may name their own.
 */
export type Capability = 'model' | 'adapter' | 'merged-adapter' | 'frozen' | 'vocabulary' | (string & {});

/** The placement of an inject stage: a plugin and its options. */
export interface PlacementSpec {
  plugin: string;
  options?: JsonObject;
}

/** One evaluation: `stage` is the stage kind, `label` its label when it has one, `index` its position. */
export interface EvaluationRecord {
  index: number;
  label?: string;
  stage: string;
  data: string;
  metrics: Record<string, number>;
  /** Classification: accuracy of each class, by its name. */
  perClass?: Array<{ name: string; examples: number; accuracy: number }>;
  samples?: string[];
}

/** One training stage's outcome. */
export interface TrainingRecord {
  index: number;
  label?: string;
  stage: string;
  steps: number;
  durationMs: number;
  stepsPerSec: number;
  finalLoss: number;
  trainableParams: number;
  totalParams: number;
  /** PEFT-style line for what this stage trained. */
  parameterReport: string;
  optimizerStateBytes: number;
  /** What the training data was (examples, tokens, share of tokens carrying loss, truncations). */
  data?: DataSummary;
}

/** What a training stage's data is: examples, and for token data the tokens, the share carrying loss, truncations. */
export interface DataSummary {
  name: string;
  examples: number;
  classes?: string[];
  inputShape?: number[];
  tokens?: number;
  lossTokens?: number;
  /** lossTokens / tokens. */
  lossShare?: number;
  truncated?: number;
}

// ---- services a stage uses while it runs (each resolved from the run's child container) ----

/** The model of the run. */
export interface ModelService {
  /** The model; throws `stage "<name>" needs a model; run "load" first` when there is none. */
  require(stage: string): ModelLike;
  /** The model, or null before `load`. */
  current(): ModelLike | null;
  /** Where the base weights came from. */
  readonly origin: string;
  /** PEFT's base_model_name_or_path for adapters of this model, or null. */
  readonly baseModelId: string | null;
}

/** One site of an adapter kept aside by `merge`: settings and factors A [fanIn, r], B [r, out]. */
export interface AdapterSiteLike {
  path: string;
  r: number;
  alpha: number;
  rslora: boolean;
  dropout: number;
  kind?: 'linear' | 'conv2d' | 'embedding';
  a: TensorLike;
  b: TensorLike;
  /** The variant's registry name ("lora", "dora"); absent: "dora" when `magnitude` is set, else "lora". */
  variant?: string;
  /** The variant's extra tensors by PEFT name (`lora_magnitude_vector` [out]). */
  extras?: Readonly<Record<string, TensorLike>>;
  /** DoRA's m: [out]; null or absent without DoRA. */
  magnitude?: TensorLike | null;
  init: string;
}

/** Adapter weights detached from the model by `merge`. */
export interface AdapterSnapshotLike {
  /** The sites of the first active adapter. */
  sites: AdapterSiteLike[];
  /** Every adapter, in the order `adapterNames` lists them. */
  adapters: Array<{ name: string; sites: AdapterSiteLike[] }>;
}

/** Adapters kept aside by `merge` so `save` can still write them. */
export interface AdapterService {
  readonly snapshot: AdapterSnapshotLike | null;
}

/** The character vocabulary travelling with a language model. */
export interface VocabularyService {
  current(): Vocabulary | null;
  set(vocabulary: Vocabulary): void;
}

/** Prepared data for one stage (core's TaskData adds training batches and the loss). */
export interface TaskDataLike {
  name: string;
  /** Examples (classification) or tokens (language modelling). */
  size: number;
  /** Metrics over the whole split (model in eval mode). */
  evaluate(model: ModelLike, batchSize: number): Promise<Record<string, number>>;
  /** Classification: the class names in label order. */
  classNames?: readonly string[];
  /** Classification: per-class results of the last `evaluate`. */
  perClass?(): Array<{ name: string; examples: number; accuracy: number }>;
  /** What the data is. */
  summary?(): DataSummary;
}

/** Data sources and task wrapping. */
export interface DataService {
  readonly source: DatasetSource;
  /** Directory relative data paths resolve from (the pipeline file's). */
  readonly baseDir: string;
  /** Loads `spec` and wraps it for the current model's task; `seed` orders training batches. */
  prepare(spec: DataSpec, seed: number): Promise<TaskDataLike>;
  /** Class names of the classification data the model was trained on (train sets them; save writes them). */
  classNames: string[] | null;
}

/** The run directory (null for in-memory sessions: writing is then an error). */
export interface RunDirectory {
  readonly dir: string | null;
  /** A path inside the run directory. */
  path(...parts: string[]): string;
  /** Records an artifact (its path relative to the run directory) in summary.json. */
  artifact(name: string, relativePath: string): void;
  /** Train stages write resumable checkpoints here (runs do; code sessions do not). */
  readonly checkpoints?: boolean;
  /** This run continues an unfinished one: train stages restore their newest checkpoint. */
  readonly resumed?: boolean;
}

/** metrics.jsonl: one JSON object per line. */
export interface MetricsSink {
  write(record: Record<string, unknown>): void;
}

/** The records summary.json reports. */
export interface RunRecords {
  readonly evaluations: readonly EvaluationRecord[];
  readonly trainings: readonly TrainingRecord[];
  evaluation(record: EvaluationRecord): void;
  training(record: TrainingRecord): void;
}

/** The pipeline being run. */
export interface PipelineService {
  /** Directory relative paths in the pipeline resolve from. */
  readonly dir: string;
  /** The run seed. */
  readonly seed: number;
  /** The merged-model directory of the `from` pipeline of stage `index` (running it first when stale). */
  /**
   * The merged-model directory of the `from` pipeline of stage `index` (running it first when stale). `from` (the
   * path as the stage names it) lets a code session, which validated no file, validate it now.
   */
  dependencyModel(index: number, from?: string): Promise<string>;
}

/** Placement plugins. */
export interface PlacementService {
  /** Validates the plugin's options and runs its selection; throws a validation error naming `pointer`. */
  select(spec: PlacementSpec, sites: readonly Site[], pointer: string): Promise<PlacementChoice[]>;
}

/** Everything a stage can use while it runs. */
export interface StageContext {
  /** The stage's name (its kind) and position. */
  readonly name: string;
  readonly index: number;
  readonly label: string | undefined;
  /** JSON pointer of the stage in the pipeline (`/stages/3`). */
  readonly pointer: string;
  /** The stage's seed: from the run seed, the stage's name and how many stages of that name came before. */
  readonly seed: number;
  readonly signal: AbortSignal;
  readonly backend: BackendInfo;
  readonly model: ModelService;
  readonly adapters: AdapterService;
  readonly vocabulary: VocabularyService;
  readonly data: DataService;
  readonly progress: ProgressReporter;
  readonly runDir: RunDirectory;
  readonly metrics: MetricsSink;
  readonly records: RunRecords;
  readonly pipeline: PipelineService;
  readonly placement: PlacementService;
}

// ---- static checks (validation time: no tensors, nothing run) ----

/** A `from` pipeline that validated: its display path and the model it ends with. */
export interface DependencyInfo {
  display: string;
  output: ModelDescription | null;
}

/** What a stage's `check` sees: the model as known from configs, the capabilities so far, and issue reporting. */
export interface StageCheckContext {
  readonly name: string;
  readonly index: number;
  /** The pipeline file as shown in messages, and the directory its relative paths resolve from. */
  readonly file: string;
  readonly dir: string;
  /** A path as messages show it: relative to the working directory. */
  shown(path: string): string;
  /** The pipeline accepts sizes validation refuses as likely mistakes (`"allowLargeRuns": true`). */
  readonly allowLargeRuns: boolean;
  /** The model before this stage (null before `load`). */
  readonly model: ModelDescription | null;
  /** Sites that carry (or will carry) an adapter at this point. */
  readonly adaptedSites: Set<string>;
  has(capability: Capability): boolean;
  provide(capability: Capability): void;
  remove(capability: Capability): void;
  /** Reports a problem; `pointer` is relative to the stage (`''` = the stage itself, `/data` = its data). */
  issue(pointer: string, message: string): void;
  /** Sets the model description the following stages see (load). */
  setModel(model: ModelDescription | null): void;
  /** Adds to the pipeline's content hash (e.g. the bytes of a checkpoint it reads). */
  hashFile(path: string): Promise<void>;
  /** Checks a placement (plugin, options, selection on the current sites); issues go under `pointer`. */
  placement(spec: PlacementSpec, pointer: string): Promise<PlacementChoice[] | null>;
  /**
   * Checks a data object (`pointer` relative to the stage, e.g. `/data`): the dataset exists, its options fit its
   * schema, its files read without a problem, and its kind, example shape and classes fit the model before this stage.
   * Returns what was learned, or null (the problems are reported).
   */
  data(spec: DataSpec, pointer: string): Promise<DatasetFacts | null>;
  /** Validates the pipeline file `from` (relative to `dir`) that this stage loads; issues go under `pointer`. */
  dependency(from: string, pointer: string): Promise<DependencyInfo | null>;
  /**
   * Builds the tokenizer of `dir` (its tokenizer.json, with tokenizer_config.json) as a run would, without encoding
   * anything: a file that parses but that the tokenizer library cannot build is an issue under `pointer`.
   */
  tokenizer(dir: string, pointer: string): Promise<void>;
}

// ---- the definition ----

/**
 * One stage: a plain object, like a placement plugin. `options` is a JSON Schema object for the stage's own keys
 * (besides `stage` and `label`); `check` runs at validation time, `run` when the pipeline runs, and what `run`
 * returns is what `session.stage()` returns. `Context` is what `run` is given: this view's `StageContext` for stage
 * packages, core's (the same services with TensorFlow.js types) inside core.
 */
export interface StageDefinitionIn<Context, Options = JsonObject, Result = unknown, Name extends string = string> {
  /** Built-ins: load, freeze, …; stage packages: their npm package name. Its literal type names the stage in `Pipeline`. */
  name: Name;
  description: string;
  /** JSON Schema (2020-12) object for the stage's keys; every property has a description. */
  options: Record<string, unknown>;
  requires: readonly Capability[];
  provides: readonly Capability[];
  removes?: readonly Capability[];
  check?(options: Options, ctx: StageCheckContext): void | Promise<void>;
  run(options: Options, ctx: Context): Result | Promise<Result>;
}

/** A stage as a stage package writes it (see StageDefinitionIn). */
export type StageDefinition<Options = JsonObject, Result = unknown, Name extends string = string> = StageDefinitionIn<StageContext, Options, Result, Name>;

/** A stage definition of any options and result (for registries and lists; callers pass validated options). */
export type AnyStageDefinition = StageDefinition<never, unknown>;

/** Returns its argument; exists for type inference (`Name`: the literal name, so the registry can derive types). */
export function defineStage<Options = JsonObject, Result = unknown, Name extends string = string>(
  stage: StageDefinition<Options, Result, Name>,
): StageDefinition<Options, Result, Name> {
  return stage;
}

/** A stage package's default export, recognised by shape (so a second copy of core still fits). */
export function isStageDefinition(value: unknown): value is AnyStageDefinition {
  const s = value as Partial<StageDefinition> | null;
  return (
    !!s &&
    typeof s === 'object' &&
    typeof s.name === 'string' &&
    typeof s.run === 'function' &&
    typeof s.options === 'object' &&
    Array.isArray(s.requires) &&
    Array.isArray(s.provides)
  );
}

/**
 * Stage packages declare their options and result types here, by declaration merging, so that pipelines built in
 * code and `session.stage()` check their options and type their results:
 *
 *     declare module '@rankwise/core/plugin' {
 *       interface StagePackages {
 *         'rankwise-stage-adapter-norms': { options: { top?: number }; result: { norms: number[] } };
 *       }
 *     }
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled by declaration merging
export interface StagePackages {}

/**
 * Top-level keys of a pipeline that other packages own (`createRankwise({ sections })`), typed by declaration merging;
 * `@rankwise/grid` adds `grid`:
 *
 *     declare module '@rankwise/core/plugin' {
 *       interface PipelineSections { grid?: GridSpec }
 *     }
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled by declaration merging
export interface PipelineSections {}
