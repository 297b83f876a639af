import 'reflect-metadata';
import { resolve } from 'node:path';
import { container as globalContainer, type DependencyContainer } from 'tsyringe';
import { defaultModuleLoader, type ModuleLoader } from '../backend/module-loader.js';
import type { PlacementPlugin } from '../plugins/placement.js';
import { PluginRegistry } from '../plugins/registry.js';
import { LineProgress, type ProgressReporter } from '../progress/reporter.js';
import { registerStages } from '../stages/register.js';
import { TOKENS } from '../tokens.js';
import { lazyDatasetSource, type DatasetSource } from './datasets.js';
import type { Override } from './overrides.js';
import { PipelineRunner, type RunOptions, type RunResult } from './runner.js';
import { Session, type SessionOptions } from './session.js';
import type { Pipeline } from './types.js';
import { validatePipelineData, validatePipelineFile, type ValidatedPipeline } from './validate.js';

export interface RankwiseOptions {
  /** Placement plugins given as objects (others are imported by package name when a pipeline names them). */
  plugins?: Array<PlacementPlugin<never>>;
  /** Data for pipelines (default: `@rankwise/datasets`, imported on first use). */
  datasets?: DatasetSource;
  progress?: ProgressReporter;
  loader?: ModuleLoader;
  /** Working directory: relative pipeline paths and plugin discovery start here. */
  cwd?: string;
}

/**
 * The composition root: one container with the plugin registry, data source, progress reporter, runner and
 * every stage; each run gets a child container of its own, so two runs share no state.
 */
export class Rankwise {
  readonly container: DependencyContainer;
  readonly plugins: PluginRegistry;
  readonly runner: PipelineRunner;
  readonly progressReporter: ProgressReporter;
  private readonly cwd: string;

  constructor(options: RankwiseOptions = {}) {
    this.cwd = options.cwd ?? process.cwd();
    this.container = globalContainer.createChildContainer();
    this.plugins = new PluginRegistry(options.loader ?? defaultModuleLoader, this.cwd);
    for (const plugin of options.plugins ?? []) this.plugins.register(plugin as PlacementPlugin<unknown>);
    const progress = options.progress ?? new LineProgress();
    this.progressReporter = progress;
    this.runner = new PipelineRunner(this.container, progress);
    this.container.register(TOKENS.Plugins, { useValue: this.plugins });
    this.container.register(TOKENS.Datasets, { useValue: options.datasets ?? lazyDatasetSource(options.loader) });
    this.container.register(TOKENS.Progress, { useValue: progress });
    this.container.register(TOKENS.Runner, { useValue: this.runner });
    registerStages(this.container);
  }

  /** Reads and checks a pipeline file (and the files it loads `from`); throws PipelineValidationError. */
  validateFile(file: string, overrides: readonly Override[] = []): Promise<ValidatedPipeline> {
    return validatePipelineFile(file, { plugins: this.plugins, overrides, cwd: this.cwd });
  }

  /** Checks a pipeline object built in code; relative paths in it resolve from `baseDir`. */
  validate(pipeline: Pipeline, baseDir = this.cwd, overrides: readonly Override[] = []): Promise<ValidatedPipeline> {
    const dir = resolve(this.cwd, baseDir);
    return validatePipelineData(pipeline, { file: '', display: `<${pipeline.name ?? 'pipeline'}>`, dir }, { plugins: this.plugins, overrides, cwd: this.cwd });
  }

  /** Validates (unless already validated) and runs a pipeline file, object, or validated pipeline. */
  async run(pipeline: string | Pipeline | ValidatedPipeline, options: RunOptions = {}): Promise<RunResult> {
    const validated =
      typeof pipeline === 'string' ? await this.validateFile(pipeline) : 'dependencies' in pipeline ? pipeline : await this.validate(pipeline);
    return this.runner.run(validated, { ...options, out: resolve(this.cwd, options.out ?? 'runs') });
  }

  /** Runs single stages on a model you built yourself (see Session). */
  session(options: SessionOptions): Session {
    return new Session(this.container, this.plugins, options, this.cwd);
  }
}

export function createRankwise(options: RankwiseOptions = {}): Rankwise {
  return new Rankwise(options);
}

