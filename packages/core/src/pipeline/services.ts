import 'reflect-metadata';
import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inject, injectable, type DependencyContainer } from 'tsyringe';
import type { ResolvedBackend } from '../backend/resolve.js';
import type { DataSpec } from '../contracts/data-schema.js';
import type { DatasetSource, Vocabulary } from '../contracts/datasets.js';
import type {
  AdapterService,
  DataService,
  EvaluationRecord,
  MetricsSink,
  ModelService,
  PipelineService,
  PlacementService,
  PlacementSpec,
  RunDirectory,
  RunRecords,
  StageContext,
  TrainingRecord,
  VocabularyService,
} from '../contracts/stage.js';
import { recordBaseModel } from '@rankwise/formats';
import { nonFiniteAsString } from '@rankwise/formats';
import type { AdapterSnapshot } from '@rankwise/formats';
import type { Model } from '@rankwise/models';
import type { Site } from '@rankwise/models';
import type { PlacementChoice } from '../contracts/placement.js';
import type { PluginRegistry } from '../plugins/registry.js';
import type { ProgressReporter } from '../progress/reporter.js';
import { hashString } from '@rankwise/models';
import { taskFor } from '../tasks/prepare.js';
import { dataMismatch } from '../datasets/compat.js';
import type { DatasetOpenContext, OpenedDataset } from '../contracts/dataset.js';
import type { TaskData } from '../contracts/task-data.js';
import { PipelineValidationError, type ValidationIssue } from './issues.js';
import { selectPlacement } from './placement-check.js';
import type { ValidatedPipeline } from './validate.js';

/**
 * Injection tokens of the services stages use. Application-wide ones (Progress, Datasets, Plugins, Runner) are
 * registered once; the per-run ones are registered with `Lifecycle.ContainerScoped`, so each run's child container
 * makes its own. `rankwise.provide(token, { useValue } | { useClass })` replaces a service.
 */
export const Services = {
  /** ProgressReporter: log lines and progress bars. */
  Progress: Symbol.for('rankwise.Progress'),
  /** DatasetSource: turns data specs into arrays. */
  Datasets: Symbol.for('rankwise.Datasets'),
  /** PluginRegistry: placement plugins and stage packages. */
  Plugins: Symbol.for('rankwise.Plugins'),
  /** DependencyRunner: runs `from` pipelines. */
  Runner: Symbol.for('rankwise.Runner'),
  /** RunInfo: what one run is (registered as a value in its child container). */
  Run: Symbol.for('rankwise.Run'),
  Model: Symbol.for('rankwise.Model'),
  Adapters: Symbol.for('rankwise.Adapters'),
  Vocabulary: Symbol.for('rankwise.Vocabulary'),
  Data: Symbol.for('rankwise.Data'),
  RunDirectory: Symbol.for('rankwise.RunDirectory'),
  Metrics: Symbol.for('rankwise.Metrics'),
  Records: Symbol.for('rankwise.Records'),
  Pipeline: Symbol.for('rankwise.Pipeline'),
  Placement: Symbol.for('rankwise.Placement'),
} as const;

/** One of the service tokens. */
export type ServiceToken = (typeof Services)[keyof typeof Services];

/** What one run is: registered as a value in the run's child container. */
export interface RunInfo {
  validated: ValidatedPipeline;
  seed: number;
  backend: ResolvedBackend;
  /** Run directory, or null for in-memory sessions that write nothing. */
  runDir: string | null;
  outRoot: string;
  signal: AbortSignal;
  /** Re-run `from` pipelines even when their result is up to date. */
  force: boolean;
  /** Train stages write resumable checkpoints into the run directory (pipeline runs; not code sessions). */
  checkpoints?: boolean;
  /** Continuing an unfinished run: train stages restore their newest checkpoint. */
  resumed?: boolean;
  /** Code sessions: validates a `from` pipeline when a stage first needs it (runs validated theirs up front). */
  validateDependency?: (from: string, index: number) => Promise<ValidatedPipeline>;
}

/** Runs a `from` pipeline when its result is missing or stale (PipelineRunner implements it). */
export interface DependencyRunner {
  ensureArtifact(dependency: ValidatedPipeline, where: { outRoot: string; signal: AbortSignal; backend: ResolvedBackend; force?: boolean }): Promise<string>;
}

@injectable()
export class ModelSlot implements ModelService {
  private model: Model | null = null;
  origin = '';
  baseModelId: string | null = null;

  require(stage: string): Model {
    if (!this.model) throw new Error(`stage "${stage}" needs a model; run "load" first`);
    return this.model;
  }

  current(): Model | null {
    return this.model;
  }

  set(model: Model, origin: string, baseModelId: string | null = null): void {
    if (this.model && this.model !== model) this.model.dispose();
    this.model = model;
    this.origin = origin;
    this.baseModelId = baseModelId;
    recordBaseModel(model, baseModelId); // a library saveAdapter(model) then writes what the save stage writes
  }

  /** Hands the model to the caller (the slot forgets it). */
  take(): Model | null {
    const model = this.model;
    this.model = null;
    return model;
  }

  dispose(): void {
    this.model?.dispose();
    this.model = null;
  }
}

@injectable()
export class AdapterStore implements AdapterService {
  snapshot: AdapterSnapshot | null = null;

  keep(snapshot: AdapterSnapshot): void {
    this.snapshot?.dispose();
    this.snapshot = snapshot;
  }

  dispose(): void {
    this.snapshot?.dispose();
    this.snapshot = null;
  }
}

@injectable()
export class VocabularySlot implements VocabularyService {
  private vocabulary: Vocabulary | null = null;

  current(): Vocabulary | null {
    return this.vocabulary;
  }

  set(vocabulary: Vocabulary): void {
    this.vocabulary = vocabulary;
  }
}

@injectable()
export class TaskDataService implements DataService {
  constructor(
    @inject(Services.Datasets) readonly source: DatasetSource,
    @inject(Services.Run) private readonly run: RunInfo,
    @inject(Services.Model) private readonly model: ModelService,
    @inject(Services.Vocabulary) private readonly vocabulary: VocabularyService,
    @inject(Services.Plugins) private readonly plugins: PluginRegistry,
    @inject(Services.Progress) private readonly progress: ProgressReporter,
  ) {}

  /** Class names of the classification data trained on last (saved with the model and adapter). */
  classNames: string[] | null = null;

  get baseDir(): string {
    return this.run.validated.dir;
  }

  /** Resolves the dataset a data object names (built-in or package), opens it, and wraps it for the model's task. */
  async open(spec: DataSpec, seed: number, signal?: AbortSignal): Promise<OpenedDataset> {
    const definition = await this.plugins.from(this.baseDir).getDataset(spec.dataset);
    const model = this.model.current();
    const ctx: DatasetOpenContext = {
      dir: this.baseDir,
      seed,
      signal: signal ?? new AbortController().signal,
      tokenizer: this.vocabulary.current(),
      contextLength: model?.contextLength ?? null,
      inputShape: model?.inputShape ? [...model.inputShape] : null,
      source: this.source,
      info: (line) => this.progress.info(line),
    };
    const opened = await definition.open(spec as never, ctx);
    if (opened.kind === 'classification' && model) {
      // the data as loaded must fit the model as loaded (a package's check may not know every example)
      const n = opened.inputShape.reduce((a, b) => a * b, 1);
      if (opened.x.length !== opened.n * n || opened.y.length !== opened.n)
        throw new Error(
          `${opened.name}: x holds ${opened.x.length} values and y ${opened.y.length} labels; ${opened.n} examples of ${opened.inputShape.join('×')} need ${opened.n * n} and ${opened.n}`,
        );
      const mismatch = dataMismatch(
        spec.dataset,
        { kind: 'classification', inputShape: opened.inputShape, classNames: opened.classNames },
        {
          architecture: model.architecture,
          task: model.task,
          config: {},
          sites: [],
          ...(model.inputShape ? { inputShape: [...model.inputShape], inputFeatures: model.inputShape.reduce((a, b) => a * b, 1) } : {}),
        },
      );
      if (mismatch) throw new Error(mismatch);
      for (let i = 0; i < opened.n; i++) {
        if (!(opened.y[i] >= 0 && opened.y[i] < opened.classNames.length))
          throw new Error(`${opened.name}: label ${opened.y[i]} of example ${i} is outside the ${opened.classNames.length} classes`);
      }
    }
    return opened;
  }

  async prepare(spec: DataSpec, seed: number): Promise<TaskData> {
    const opened = await this.open(spec, seed);
    return taskFor(opened, this.model.current(), this.vocabulary.current(), seed);
  }
}

@injectable()
export class RunDirectoryService implements RunDirectory {
  readonly artifacts: Record<string, string> = {};

  constructor(@inject(Services.Run) private readonly run: RunInfo) {}

  get dir(): string | null {
    return this.run.runDir;
  }

  get checkpoints(): boolean {
    return this.run.checkpoints === true && this.run.runDir !== null;
  }

  get resumed(): boolean {
    return this.run.resumed === true;
  }

  path(...parts: string[]): string {
    if (!this.run.runDir) throw new Error('this session has no run directory (give one to write files)');
    return join(this.run.runDir, ...parts);
  }

  artifact(name: string, relativePath: string): void {
    this.artifacts[name] = relativePath;
  }
}

/** Appends one JSON object per line to metrics.jsonl (nothing without a run directory). */
@injectable()
export class MetricsLog implements MetricsSink {
  private pending: Promise<void> = Promise.resolve();
  private readonly listeners: Array<(record: Readonly<Record<string, unknown>>) => void> = [];
  readonly file: string | null;

  constructor(@inject(Services.Run) run: RunInfo) {
    this.file = run.runDir ? join(run.runDir, 'metrics.jsonl') : null;
  }

  write(record: Record<string, unknown>): void {
    if (!this.file) return;
    const stamped = { time: new Date().toISOString(), ...record };
    for (const listener of this.listeners) listener(stamped);
    const line = `${JSON.stringify(stamped, nonFiniteAsString)}\n`;
    const file = this.file;
    this.pending = this.pending.then(() => appendFile(file, line));
  }

  /** Calls `listener` with every record written from now on (run observers: TensorBoard, reports). */
  listen(listener: (record: Readonly<Record<string, unknown>>) => void): void {
    this.listeners.push(listener);
  }

  flush(): Promise<void> {
    return this.pending;
  }
}

@injectable()
export class RecordsStore implements RunRecords {
  readonly evaluations: EvaluationRecord[] = [];
  readonly trainings: TrainingRecord[] = [];

  evaluation(record: EvaluationRecord): void {
    this.evaluations.push(record);
  }

  training(record: TrainingRecord): void {
    this.trainings.push(record);
  }
}

@injectable()
export class PipelineAccess implements PipelineService {
  constructor(
    @inject(Services.Run) private readonly run: RunInfo,
    @inject(Services.Runner) private readonly runner: DependencyRunner,
  ) {}

  get dir(): string {
    return this.run.validated.dir;
  }

  get seed(): number {
    return this.run.seed;
  }

  async dependencyModel(index: number, from?: string): Promise<string> {
    let dependency = this.run.validated.dependencies.get(index);
    if (!dependency && from !== undefined && this.run.validateDependency) {
      dependency = await this.run.validateDependency(from, index);
      this.run.validated.dependencies.set(index, dependency);
    }
    if (!dependency) throw new Error(`load: the "from" pipeline of stage ${index} was not validated`);
    const { outRoot, signal, backend, force } = this.run;
    return this.runner.ensureArtifact(dependency, { outRoot, signal, backend, force });
  }
}

@injectable()
export class PlacementSelector implements PlacementService {
  constructor(
    @inject(Services.Plugins) private readonly plugins: PluginRegistry,
    @inject(Services.Run) private readonly run: RunInfo,
  ) {}

  async select(spec: PlacementSpec, sites: readonly Site[], pointer: string): Promise<PlacementChoice[]> {
    const issues: ValidationIssue[] = [];
    const chosen = await selectPlacement(spec, sites, pointer, this.run.validated.display, this.plugins.from(this.run.validated.dir), issues);
    if (!chosen) throw new PipelineValidationError(issues);
    return chosen;
  }
}

/** The per-run services, registered once on the application container (each run's child makes its own). */
export const RUN_SERVICES: ReadonlyArray<readonly [symbol, new (...args: never[]) => unknown]> = [
  [Services.Model, ModelSlot],
  [Services.Adapters, AdapterStore],
  [Services.Vocabulary, VocabularySlot],
  [Services.Data, TaskDataService],
  [Services.RunDirectory, RunDirectoryService],
  [Services.Metrics, MetricsLog],
  [Services.Records, RecordsStore],
  [Services.Pipeline, PipelineAccess],
  [Services.Placement, PlacementSelector],
];

/** The seed of stage `index`: named by its kind and how many of that kind came before ("inject#0", "train#1"). */
export function stageSeed(stages: ReadonlyArray<{ stage: string }>, index: number, seed: number): number {
  const kind = stages[index].stage;
  const occurrence = stages.slice(0, index).filter((s) => s.stage === kind).length;
  return hashString(`${kind}#${occurrence}`, seed);
}

/** Everything stage `index` can use, resolved from the run's child container. */
export function stageContext(child: DependencyContainer, index: number): StageContext {
  const run = child.resolve<RunInfo>(Services.Run);
  const stages = run.validated.pipeline.stages;
  const spec = stages[index];
  return {
    name: spec.stage,
    index,
    label: spec.label,
    pointer: `/stages/${index}`,
    seed: stageSeed(stages, index, run.seed),
    signal: run.signal,
    backend: run.backend,
    model: child.resolve(Services.Model),
    adapters: child.resolve(Services.Adapters),
    vocabulary: child.resolve(Services.Vocabulary),
    data: child.resolve(Services.Data),
    progress: child.resolve<ProgressReporter>(Services.Progress),
    runDir: child.resolve(Services.RunDirectory),
    metrics: child.resolve(Services.Metrics),
    records: child.resolve(Services.Records),
    pipeline: child.resolve(Services.Pipeline),
    placement: child.resolve(Services.Placement),
  };
}
