import 'reflect-metadata';
import { resolve } from 'node:path';
import { container as globalContainer, Lifecycle, type DependencyContainer } from 'tsyringe';
import type { ModuleLoader } from '../backend/module-loader.js';
import type { DatasetSource } from '../contracts/datasets.js';
import type { AnyStageDefinition } from '../contracts/stage.js';
import type { AnyDatasetDefinition } from '../contracts/dataset.js';
import { BUILTIN_DATASETS } from '../datasets/builtin.js';
import type { PlacementPlugin } from '../contracts/placement.js';
import { BUILT_IN_ALIASES, PluginRegistry } from '../plugins/registry.js';
import { LineProgress, type ProgressReporter } from '../progress/reporter.js';
import { lazyDatasetSource } from './datasets.js';
import type { JsonObject } from '@rankwise/models';
import { BUILTIN_STAGES } from '../stages/builtin.js';
import type { Override } from './overrides.js';
import { buildPipelineSchema } from './schema-build.js';
import { PipelineRunner, type RunOptions, type RunResult } from './runner.js';
import type { RunObserver } from './observer.js';
import { RUN_SERVICES, Services, type ServiceToken } from './services.js';
import { Session, type SessionOptions } from './session.js';
import type { PipelineSection } from './section.js';
import type { Pipeline } from './types.js';
import { validatePipelineData, validatePipelineFile, type PipelineCheck, type ValidatedPipeline } from './validate.js';

export interface RankwiseOptions {
  /** Placement plugins given as objects (others are imported by package name when a pipeline names them). */
  plugins?: Array<PlacementPlugin<never>>;
  /** Stages given as objects (`defineStage`); pipelines use them by name, before any installed stage package. */
  stages?: AnyStageDefinition[];
  /** Datasets given as objects (`defineDataset`); pipelines use them by name, before any installed dataset package. */
  datasetDefinitions?: AnyDatasetDefinition[];
  /** Data for pipelines (default: `@rankwise/datasets`, imported on first use). */
  datasets?: DatasetSource;
  /** Log lines and progress bars (default: lines on stdout). */
  progress?: ProgressReporter;
  loader?: ModuleLoader;
  /** Working directory: relative pipeline paths resolve from here. */
  cwd?: string;
  /**
   * Where plugin packages are looked up after the pipeline's own directory (each searched upwards, like Node's
   * node_modules lookup). Default: where @rankwise/core is installed. The CLI passes its own install.
   */
  pluginDirs?: readonly string[];
  /** Whole-pipeline checks run by validate. */
  checks?: PipelineCheck[];
  /** Top-level keys other packages own, with their schema and check (`@rankwise/grid`'s `gridSection`). */
  sections?: PipelineSection[];
  /** Watchers of every run (TensorBoard event files, report.html: `@rankwise/observe`). */
  observers?: RunObserver[];
}

/**
 * The composition root: one container with the plugin registry, data source, progress reporter, runner and the
 * per-run services; each run (and each session) gets a child container of its own, so two runs share no state.
 */
export class Rankwise {
  readonly container: DependencyContainer;
  readonly plugins: PluginRegistry;
  readonly runner: PipelineRunner;
  private readonly cwd: string;
  private readonly checks: readonly PipelineCheck[];
  private readonly sections: readonly PipelineSection[];

  constructor(options: RankwiseOptions = {}) {
    this.cwd = options.cwd ?? process.cwd();
    this.checks = options.checks ?? [];
    this.sections = options.sections ?? [];
    this.container = globalContainer.createChildContainer();
    this.plugins = new PluginRegistry({ installDirs: options.pluginDirs });
    for (const plugin of options.plugins ?? []) this.plugins.register(plugin as PlacementPlugin<unknown>);
    for (const stage of options.stages ?? []) this.plugins.registerStage(stage);
    for (const dataset of options.datasetDefinitions ?? []) this.plugins.registerDataset(dataset);
    this.container.register(Services.Plugins, { useValue: this.plugins });
    this.container.register(Services.Datasets, { useValue: options.datasets ?? lazyDatasetSource(options.loader) });
    this.container.register(Services.Progress, { useValue: options.progress ?? new LineProgress() });
    this.runner = new PipelineRunner(
      this.container,
      { info: (line) => this.progressReporter.info(line), task: (label, total) => this.progressReporter.task(label, total) },
      options.observers ?? [],
    );
    this.container.register(Services.Runner, { useValue: this.runner });
    for (const [token, useClass] of RUN_SERVICES)
      this.container.register(token, { useClass: useClass as new () => unknown }, { lifecycle: Lifecycle.ContainerScoped });
  }

  /**
   * Replaces a service (`Services.Progress`, `Services.Datasets`, `Services.Model`, …) before running. A value is
   * shared by every run; a class given for a per-run service is made once per run (its child container).
   */
  provide<T>(token: ServiceToken, provider: { useValue: T } | { useClass: new (...args: never[]) => T }): this {
    if ('useValue' in provider) this.container.register(token, { useValue: provider.useValue });
    else this.container.register(token, { useClass: provider.useClass as new () => T }, { lifecycle: Lifecycle.ContainerScoped });
    return this;
  }

  /** The progress reporter in use (replaceable: `rankwise.provide(Services.Progress, { useValue })`). */
  get progressReporter(): ProgressReporter {
    return this.container.resolve<ProgressReporter>(Services.Progress);
  }

  /** Reads and checks a pipeline file (and the files it loads `from`); throws PipelineValidationError. */
  validateFile(file: string, overrides: readonly Override[] = []): Promise<ValidatedPipeline> {
    return validatePipelineFile(file, {
      plugins: this.plugins,
      overrides,
      cwd: this.cwd,
      checks: this.checks,
      sections: this.sections,
      datasets: this.datasetSource,
    });
  }

  /** Checks a pipeline object built in code; relative paths in it resolve from `baseDir` (default: the working directory). */
  validate(pipeline: Pipeline, baseDir = this.cwd, overrides: readonly Override[] = []): Promise<ValidatedPipeline> {
    const dir = resolve(this.cwd, baseDir);
    return validatePipelineData(
      pipeline,
      { file: '', display: `<${pipeline.name ?? 'pipeline'}>`, dir },
      { plugins: this.plugins, overrides, cwd: this.cwd, checks: this.checks, sections: this.sections, datasets: this.datasetSource },
    );
  }

  /** The data source runs read through (replaceable: `rankwise.provide(Services.Datasets, { useValue })`). */
  get datasetSource(): DatasetSource {
    return this.container.resolve<DatasetSource>(Services.Datasets);
  }

  /** Validates (unless already validated) and runs a pipeline file, object, or validated pipeline. */
  async run(pipeline: string | Pipeline | ValidatedPipeline, options: RunOptions & { baseDir?: string } = {}): Promise<RunResult> {
    const { baseDir, ...runOptions } = options;
    const validated =
      typeof pipeline === 'string' ? await this.validateFile(pipeline) : 'dependencies' in pipeline ? pipeline : await this.validate(pipeline, baseDir);
    return this.runner.run(validated, { ...runOptions, out: resolve(this.cwd, runOptions.out ?? 'runs') });
  }

  /**
   * The pipeline JSON Schema for this project: the built-in stages and datasets, then every stage package, dataset
   * package and placement plugin installed here (or registered in code), each with its options schema (what `rankwise schema` writes).
   */
  async pipelineSchema(): Promise<JsonObject> {
    const installed = await this.plugins.loadInstalled(this.cwd);
    const aliases = (name: string) => Object.keys(BUILT_IN_ALIASES).filter((alias) => BUILT_IN_ALIASES[alias] === name);
    return buildPipelineSchema({
      stages: [...BUILTIN_STAGES, ...installed.stages.sort((a, b) => a.name.localeCompare(b.name))],
      placements: installed.placements.sort((a, b) => a.name.localeCompare(b.name)).map((plugin) => ({ plugin, aliases: aliases(plugin.name) })),
      datasets: [...BUILTIN_DATASETS, ...installed.datasets.sort((a, b) => a.name.localeCompare(b.name))],
      sections: this.sections,
    });
  }

  /** Runs single stages on a model you built yourself (see Session); the backend resolves as `run` does. */
  session(options: SessionOptions = {}): Session {
    return new Session(this.container, this.plugins, options, this.cwd, this.sections);
  }
}

export function createRankwise(options: RankwiseOptions = {}): Rankwise {
  return new Rankwise(options);
}
