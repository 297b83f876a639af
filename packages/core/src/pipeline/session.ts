import { resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { DependencyContainer } from 'tsyringe';
import { activeBackend, type ResolvedBackend } from '../backend/resolve.js';
import type { BackendName } from '../backend/candidates.js';
import type { Model } from '../nn/model.js';
import type { PluginRegistry } from '../plugins/registry.js';
import type { Stage } from '../stages/stage.js';
import { stageToken, TOKENS } from '../tokens.js';
import { ajvIssues, PipelineValidationError } from './issues.js';
import { MetricsLog, RunContext, type EvaluationRecord } from './run-context.js';
import { validateStageSchema } from './schema.js';
import type { StageSpec } from './types.js';
import { validatePipelineFile, type ValidatedPipeline } from './validate.js';

export interface SessionOptions {
  /** A model you built; the session owns it from now on (dispose() disposes it). Or start with a load stage. */
  model?: Model;
  seed?: number;
  /** Where `save` writes; without it, save is an error. */
  runDir?: string;
  signal?: AbortSignal;
}

/**
 * Stages called one by one from code, on the same classes a pipeline file runs. Seeds are derived exactly as in
 * a pipeline (from the seed and each stage's kind and occurrence), so the same stages give the same numbers.
 */
export class Session {
  readonly context: RunContext;
  private readonly child: DependencyContainer;
  private readonly stages: StageSpec[] = [];

  constructor(container: DependencyContainer, private readonly plugins: PluginRegistry, options: SessionOptions, private readonly cwd: string) {
    const pipeline: ValidatedPipeline = {
      file: '',
      display: '<session>',
      dir: cwd,
      pipeline: { name: 'session', stages: this.stages },
      hash: '',
      dependencies: new Map(),
      output: null,
    };
    const runDir = options.runDir ? resolve(cwd, options.runDir) : null;
    this.context = new RunContext(pipeline, options.seed ?? 0, currentBackend(), runDir, resolve(cwd, 'runs'), options.signal ?? new AbortController().signal, new MetricsLog(null));
    this.context.model = options.model ?? null;
    this.child = container.createChildContainer();
    this.child.register(TOKENS.Run, { useValue: this.context });
  }

  get model(): Model | null {
    return this.context.model;
  }

  get evaluations(): EvaluationRecord[] {
    return this.context.evaluations;
  }

  /** Validates `spec` against the pipeline schema's stage definition, then runs it. */
  async stage(spec: StageSpec): Promise<void> {
    const index = this.stages.length;
    const validator = validateStageSchema(spec);
    if (validator.errors?.length) throw new PipelineValidationError(ajvIssues(validator.errors, spec, '<session>', `/stages/${index}`));
    if (spec.stage === 'load' && spec.from !== undefined) {
      const dependency = await validatePipelineFile(resolve(this.cwd, spec.from), { plugins: this.plugins, cwd: this.cwd });
      this.context.pipeline.dependencies.set(index, dependency);
    }
    this.stages.push(spec);
    await this.child.resolve<Stage<StageSpec>>(stageToken(spec.stage)).run(spec, index);
  }

  /** Disposes the model and anything the stages kept. */
  dispose(): void {
    this.context.dispose();
    this.child.dispose();
  }
}

function currentBackend(): ResolvedBackend {
  const active = activeBackend();
  if (active) return active;
  const tfBackend = tf.getBackend();
  return { name: tfBackend as BackendName, tfBackend, kind: 'cpu', info: {}, requested: tfBackend as BackendName, reason: 'already set', skipped: [] };
}
