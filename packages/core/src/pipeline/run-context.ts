import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ResolvedBackend } from '../backend/resolve.js';
import type { AdapterSnapshot } from '../io/peft-adapter.js';
import type { Model } from '../nn/model.js';
import { hashString } from '../random.js';
import type { Vocabulary } from './datasets.js';
import type { ValidatedPipeline } from './validate.js';

export interface EvaluationRecord {
  /** The stage's label, or its index when it has none. */
  stage: string | number;
  index: number;
  data: string;
  metrics: Record<string, number>;
  samples?: string[];
}

export interface TrainingRecord {
  stage: string | number;
  index: number;
  steps: number;
  durationMs: number;
  stepsPerSec: number;
  finalLoss: number;
  trainableParams: number;
  totalParams: number;
  /** PEFT-style line for what this stage trained. */
  parameterReport: string;
  optimizerStateBytes: number;
}

/** Appends one JSON object per line to metrics.jsonl. */
export class MetricsLog {
  private pending: Promise<void> = Promise.resolve();

  constructor(readonly file: string | null) {}

  write(record: Record<string, unknown>): void {
    if (!this.file) return;
    const line = `${JSON.stringify({ time: new Date().toISOString(), ...record })}\n`;
    const file = this.file;
    this.pending = this.pending.then(() => appendFile(file, line));
  }

  flush(): Promise<void> {
    return this.pending;
  }
}

/** The state of one run, shared by its stages through the run's child container. */
export class RunContext {
  model: Model | null = null;
  /** Adapters kept after `merge`, so `save` can still write them. */
  adapterSnapshot: AdapterSnapshot | null = null;
  /** Language models: the character vocabulary travelling with the model. */
  vocabulary: Vocabulary | null = null;
  /** Where the base weights came from (PEFT's base_model_name_or_path). */
  baseModel = '';
  readonly evaluations: EvaluationRecord[] = [];
  readonly trainings: TrainingRecord[] = [];
  readonly artifacts: Record<string, string> = {};

  constructor(
    readonly pipeline: ValidatedPipeline,
    readonly seed: number,
    readonly backend: ResolvedBackend,
    /** Run directory, or null for in-memory sessions that write nothing. */
    readonly runDir: string | null,
    readonly outRoot: string,
    readonly signal: AbortSignal,
    readonly metrics: MetricsLog,
    /** Re-run `from` pipelines even when their result is up to date. */
    readonly force = false,
  ) {}

  requireModel(stage: string): Model {
    if (!this.model) throw new Error(`stage "${stage}" needs a model; run "load" first`);
    return this.model;
  }

  /** The label of stage `index`, or the index itself. */
  stageLabel(index: number): string | number {
    return this.pipeline.pipeline.stages[index]?.label ?? index;
  }

  /** A seed for one purpose, derived from the run seed. */
  seedFor(purpose: string): number {
    return hashString(purpose, this.seed);
  }

  /**
   * The seed of stage `index`'s randomness: named by the stage kind and how many of that kind came before
   * ("inject#0", "train#1"), so a pipeline file and the same stages composed in code draw the same numbers.
   */
  stageSeed(index: number): number {
    const stages = this.pipeline.pipeline.stages;
    const kind = stages[index].stage;
    const occurrence = stages.slice(0, index).filter((s) => s.stage === kind).length;
    return this.seedFor(`${kind}#${occurrence}`);
  }

  /** A path inside the run directory. */
  path(...parts: string[]): string {
    if (!this.runDir) throw new Error('this session has no run directory (give one to write files)');
    return join(this.runDir, ...parts);
  }

  dispose(): void {
    this.model?.dispose();
    this.model = null;
    this.adapterSnapshot?.dispose();
    this.adapterSnapshot = null;
  }
}
