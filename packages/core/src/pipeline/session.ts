import 'reflect-metadata';
import { resolve } from 'node:path';
import type { DependencyContainer } from 'tsyringe';
import { resolveBackend, type BackendRequest, type ResolvedBackend } from '../backend/resolve.js';
import type { EvaluationRecord } from '../contracts/stage.js';
import type { Model } from '@rankwise/models';
import type { PluginRegistry } from '../plugins/registry.js';
import { ajvIssues, PipelineValidationError } from './issues.js';
import { type AdapterStore, type ModelSlot, type RecordsStore, Services, stageContext, type RunInfo } from './services.js';
import { validateStageObject } from './schema.js';
import { resolveStages } from './stage-resolve.js';
import { withSchemaDefaults } from './stage-defaults.js';
import { stageOptions } from './stage-options.js';
import type { PipelineSection } from './section.js';
import type { CheckedStageSpec, ExternalStageSpec, StageResult, StageSpec } from './types.js';
import { savesNoModel, validatePipelineFile, type ValidatedPipeline } from './validate.js';

export interface SessionOptions {
  /** A model you built; the session owns it from now on (dispose() disposes it). Or start with a load stage. */
  model?: Model;
  seed?: number;
  /** Where `save` writes; without it, save is an error. */
  runDir?: string;
  signal?: AbortSignal;
  /** The backend, resolved as `run` does (default `auto`: the fastest that starts). */
  backend?: BackendRequest;
}

/**
 * Stages called one by one from code, on the same definitions a pipeline file runs. Seeds are derived exactly as in
 * a pipeline (from the seed and each stage's kind and occurrence), so the same stages give the same numbers.
 */
export class Session {
  private readonly child: DependencyContainer;
  private readonly stages: Array<StageSpec | ExternalStageSpec> = [];
  private readonly pipeline: ValidatedPipeline;
  private backendReady: Promise<ResolvedBackend> | null = null;
  private readonly info: RunInfo;

  constructor(
    container: DependencyContainer,
    private readonly plugins: PluginRegistry,
    private readonly options: SessionOptions,
    private readonly cwd: string,
    /** Top-level keys other packages own, for the `from` pipelines a stage loads (the grid's `grid`). */
    sections: readonly PipelineSection[] = [],
  ) {
    this.pipeline = {
      file: '',
      display: '<session>',
      dir: cwd,
      pipeline: { name: 'session', stages: this.stages as StageSpec[] },
      stageDefinitions: [],
      hash: '',
      dependencies: new Map(),
      output: null,
      modelBefore: [],
    };
    this.info = {
      validated: this.pipeline,
      seed: options.seed ?? 0,
      backend: null as unknown as ResolvedBackend, // set by the first stage(), before any service reads it
      runDir: options.runDir ? resolve(cwd, options.runDir) : null,
      outRoot: resolve(cwd, 'runs'),
      signal: options.signal ?? new AbortController().signal,
      force: false,
      // a stage that loads another pipeline's model (load.from) validates that file when it runs
      validateDependency: async (from, index) => {
        const dependency = await validatePipelineFile(resolve(cwd, from), { plugins, cwd, sections });
        const unsaved = savesNoModel(dependency);
        if (unsaved) throw new PipelineValidationError([{ file: '<session>', pointer: `/stages/${index}/from`, message: unsaved }]);
        return dependency;
      },
    };
    this.child = container.createChildContainer();
    this.child.register(Services.Run, { useValue: this.info });
    if (options.model) this.child.resolve<ModelSlot>(Services.Model).set(options.model, '');
  }

  /** The backend this session runs on (resolved on first use, as `run` does). */
  backend(): Promise<ResolvedBackend> {
    this.backendReady ??= resolveBackend(this.options.backend ?? 'auto').then((backend) => {
      this.info.backend = backend;
      return backend;
    });
    return this.backendReady;
  }

  get model(): Model | null {
    return this.child.resolve<ModelSlot>(Services.Model).current();
  }

  get evaluations(): readonly EvaluationRecord[] {
    return this.child.resolve<RecordsStore>(Services.Records).evaluations;
  }

  /** Validates `spec` against its stage's schema and checks, runs it, and returns what the stage produced. */
  async stage<const S extends { stage: string; label?: string }>(spec: S & CheckedStageSpec<S>): Promise<StageResult<S>> {
    await this.backend();
    const index = this.stages.length;
    const issues: PipelineValidationError['issues'] = [];
    const [definition] = await resolveStages([spec], this.plugins.from(this.cwd), '<session>', issues);
    if (!definition) throw new PipelineValidationError(issues.map((i) => ({ ...i, pointer: i.pointer.replace('/stages/0', `/stages/${index}`) })));
    const validator = validateStageObject(definition, spec);
    if (validator.errors?.length) throw new PipelineValidationError(ajvIssues(validator.errors, spec, '<session>', `/stages/${index}`));
    this.stages.push(spec);
    this.pipeline.stageDefinitions.push(definition);
    return (await definition.run(withSchemaDefaults(definition, stageOptions(spec)) as never, stageContext(this.child, index))) as StageResult<S>;
  }

  /** Disposes the model and anything the stages kept. */
  dispose(): void {
    this.child.resolve<ModelSlot>(Services.Model).dispose();
    this.child.resolve<AdapterStore>(Services.Adapters).dispose();
    this.child.dispose();
  }
}
