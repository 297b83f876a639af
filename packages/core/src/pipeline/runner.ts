import 'reflect-metadata';
import { readFile, readdir, rm, stat } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { DependencyContainer } from 'tsyringe';
import { describeBackend, resolveBackend, type BackendRequest, type ResolvedBackend } from '../backend/resolve.js';
import { isRunInterrupted, throwIfAborted } from '../contracts/abort.js';
import type { EvaluationRecord, TrainingRecord } from '../contracts/stage.js';
import { atomicWriteFile } from '@rankwise/formats';
import { isFsError, readableFsError } from '@rankwise/formats';
import { parameterReport } from '@rankwise/lora';
import type { Model } from '@rankwise/models';
import type { ProgressReporter } from '../progress/reporter.js';
import { buildOnce } from '../run/build-once.js';
import { builtinStage } from '../stages/builtin.js';
import { HOST } from '../run/host.js';
import { CHECKPOINTS_DIR, openRunFolder } from '../run/open-run.js';
import type { RunFolder } from '../run/run-folder.js';
import {
  type AdapterStore,
  type MetricsLog,
  type ModelSlot,
  type RecordsStore,
  type RunDirectoryService,
  Services,
  stageContext,
  type DependencyRunner,
  type RunInfo,
} from './services.js';
import { withSchemaDefaults } from './stage-defaults.js';
import { stageOptions } from './stage-options.js';
import type { ValidatedPipeline } from './validate.js';
import type { RunListener, RunObserver } from './observer.js';

export interface RunOptions {
  /** Root of run directories (default `runs` in the working directory). */
  out?: string;
  /** Overrides the pipeline's backend. */
  backend?: BackendRequest;
  /** Overrides the pipeline's seed. */
  seed?: number;
  signal?: AbortSignal;
  /** Return the final model instead of disposing it (the caller disposes it). */
  keepModel?: boolean;
  /** Re-run `from` pipelines even when their result is up to date. */
  force?: boolean;
  /** Use this started backend instead of resolving one (runs of `from` pipelines share their parent's). */
  resolvedBackend?: ResolvedBackend;
  /**
   * Run in exactly this directory instead of `<out>/<name>/<run-id>` (grid cells use it): emptied first, unless
   * it holds checkpoints of an unfinished run of this same pipeline, which then resumes.
   */
  runDir?: string;
  /** Continue the unfinished run in this folder from its last training checkpoint. */
  resume?: string;
}

export interface ArtifactOptions {
  outRoot: string;
  signal: AbortSignal;
  backend: ResolvedBackend;
  force?: boolean;
}

export type RunStatus = 'completed' | 'failed' | 'interrupted';

export interface RunSummary {
  pipeline: string;
  file: string;
  hash: string;
  status: RunStatus;
  /** The process that ran it (a `running` summary whose process is gone is an abandoned run). */
  pid: number;
  host: string;
  /** Set when this run continued from a checkpoint. */
  resumedAt?: string;
  runDir: string;
  backend: {
    name: string;
    tfBackend: string;
    reason: string;
    info: Record<string, string | number | boolean>;
    skipped: Array<{ name: string; reason: string }>;
  };
  seed: number;
  /** Of the last train stage (what was trained); of the final model when nothing trained. */
  trainableParams: number;
  totalParams: number;
  parameterReport: string;
  durationMs: number;
  /** tf.memory() tensor counts around the run (equal unless the model was kept) and peak resident memory. */
  memory: { numTensorsBefore: number; numTensorsAfter: number; peakRssBytes: number };
  startedAt: string;
  finishedAt: string;
  evaluations: EvaluationRecord[];
  training: TrainingRecord[];
  artifacts: Record<string, string>;
  error?: string;
}

export interface RunResult {
  runDir: string;
  summary: RunSummary;
  /** The final model when `keepModel` was set. */
  model: Model | null;
}

/** A run that failed or was interrupted; says where its partial outputs are. */
export class RunFailed extends Error {
  constructor(
    readonly summary: RunSummary,
    cause: unknown,
  ) {
    super(
      `${summary.pipeline}: ${summary.status === 'interrupted' ? 'interrupted' : 'failed'}: ${(cause as Error).message}; partial run in ${summary.runDir}`,
      { cause },
    );
    this.name = 'RunFailed';
  }
}

/**
 * Runs one stage; an error thrown by a stage package's own code is named by its pointer and package,
 * `/stages/7 (rankwise-stage-x): …`, in the CLI's line and in summary.json (built-in stages' errors already say
 * which stage they are; a Ctrl-C is not an error of the stage).
 */
async function attributed(index: number, stage: string, run: () => unknown): Promise<void> {
  try {
    await run();
  } catch (error) {
    if (builtinStage(stage) || isRunInterrupted(error) || isFsError(error)) throw error;
    throw new Error(`/stages/${index} (${stage}): ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

/** Runs validated pipelines: one child container and one run directory per run. */
export class PipelineRunner implements DependencyRunner {
  constructor(
    private readonly container: DependencyContainer,
    private readonly progress: ProgressReporter,
    private readonly observers: readonly RunObserver[] = [],
  ) {}

  async run(validated: ValidatedPipeline, options: RunOptions = {}): Promise<RunResult> {
    const outRoot = resolve(options.out ?? 'runs');
    const pipeline = validated.pipeline;
    const backend = options.resolvedBackend ?? (await resolveBackend(options.backend ?? pipeline.backend ?? 'auto'));
    const seed = options.seed ?? pipeline.seed ?? 0;
    const { folder, resumed } = await openRunFolder({ name: pipeline.name, hash: validated.hash, file: validated.display }, outRoot, options);
    const runDir = folder.dir;
    const signal = options.signal ?? new AbortController().signal;
    const info: RunInfo = { validated, seed, backend, runDir, outRoot, signal, force: options.force ?? false, checkpoints: true, resumed };
    await atomicWriteFile(join(runDir, 'pipeline.json'), `${JSON.stringify({ ...pipeline, seed, backend: backend.name }, null, 2)}\n`);
    this.progress.info(`${resumed ? 'resume' : 'run'} ${pipeline.name} → ${relative(process.cwd(), runDir) || runDir}`);
    this.progress.info(describeBackend(backend));
    const startedAt = new Date();
    const numTensorsBefore = tf.memory().numTensors;
    const child = this.container.createChildContainer();
    child.register(Services.Run, { useValue: info });
    const metrics = child.resolve<MetricsLog>(Services.Metrics);
    const modelSlot = child.resolve<ModelSlot>(Services.Model);
    const listeners = await this.openListeners(runDir, pipeline.name, resumed);
    for (const { listener } of listeners) metrics.listen((record) => listener.record(record));
    if (resumed) metrics.write({ event: 'resume' });
    let status: RunStatus = 'completed';
    let failure: unknown;
    try {
      for (const [index, spec] of pipeline.stages.entries()) {
        throwIfAborted(signal, `stage ${index} (${spec.stage})`);
        const started = performance.now();
        await attributed(index, spec.stage, () =>
          validated.stageDefinitions[index].run(withSchemaDefaults(validated.stageDefinitions[index], stageOptions(spec)) as never, stageContext(child, index)),
        );
        metrics.write({ event: 'stage', index, stage: spec.stage, label: spec.label, durationMs: performance.now() - started });
      }
    } catch (error) {
      status = isRunInterrupted(error) || signal.aborted ? 'interrupted' : 'failed';
      failure = readableFsError(error); // ENOSPC, EACCES…: one line naming the path
    }
    const summary = this.summarize(child, info, status, startedAt, failure, folder);
    const model = options.keepModel && status === 'completed' ? modelSlot.take() : null;
    modelSlot.dispose();
    child.resolve<AdapterStore>(Services.Adapters).dispose();
    child.dispose();
    summary.memory = { numTensorsBefore, numTensorsAfter: tf.memory().numTensors, peakRssBytes: process.resourceUsage().maxRSS * 1024 };
    await metrics.flush();
    for (const { name, listener } of listeners) {
      await listener.finish(summary).catch((error: unknown) => this.progress.info(`warning: ${name}: ${(error as Error).message}`));
    }
    if (status === 'completed') await rm(join(runDir, CHECKPOINTS_DIR), { recursive: true, force: true });
    await folder.finish(summary as unknown as Record<string, unknown> & { status: RunStatus }, { markLatest: options.runDir === undefined });
    if (failure) throw new RunFailed(summary, failure);
    return { runDir, summary, model };
  }

  /** The observers' listeners for this run; an observer that fails to open is reported and left out. */
  private async openListeners(dir: string, pipeline: string, resumed: boolean): Promise<Array<{ name: string; listener: RunListener }>> {
    const opened: Array<{ name: string; listener: RunListener }> = [];
    for (const observer of this.observers) {
      try {
        const listener = await observer.open({ dir, pipeline, resumed });
        if (listener) opened.push({ name: observer.name, listener });
      } catch (error) {
        this.progress.info(`warning: ${observer.name}: ${(error as Error).message}`);
      }
    }
    return opened;
  }

  /**
   * The merged-model directory a `from` pipeline produced with its current content hash; when there is none
   * (never run, edited since, interrupted), runs it first with the given backend and output root. A run's
   * RunInfo carries all of `where`.
   */
  async ensureArtifact(dependency: ValidatedPipeline, where: ArtifactOptions): Promise<string> {
    const name = dependency.pipeline.name;
    return buildOnce({
      lockFile: join(where.outRoot, name, '.build.lock'),
      signal: where.signal,
      force: where.force,
      find: () => findArtifact(where.outRoot, name, dependency.hash),
      onFound: (found) => this.progress.info(`load: ${name} is up to date (${relative(process.cwd(), found) || found})`),
      onWait: (owner) => this.progress.info(`load: ${name} is being built by ${owner}; waiting for it`),
      build: async () => {
        this.progress.info(`load: ${name} has no up-to-date result (content hash ${dependency.hash.slice(0, 12)}); running ${dependency.display} first`);
        const result = await this.run(dependency, { out: where.outRoot, signal: where.signal, resolvedBackend: where.backend, force: where.force });
        return join(result.runDir, 'merged');
      },
    });
  }

  private summarize(child: DependencyContainer, info: RunInfo, status: RunStatus, startedAt: Date, failure: unknown, folder: RunFolder): RunSummary {
    const records = child.resolve<RecordsStore>(Services.Records);
    const model = child.resolve<ModelSlot>(Services.Model).current();
    const lastTraining = records.trainings[records.trainings.length - 1];
    const report = model ? parameterReport(model) : null;
    const { name, tfBackend, reason, info: backendInfo, skipped } = info.backend;
    const validated = info.validated;
    return {
      pipeline: validated.pipeline.name,
      file: validated.display,
      hash: validated.hash,
      status,
      pid: process.pid,
      host: HOST,
      ...(info.resumed ? { resumedAt: startedAt.toISOString() } : {}),
      runDir: info.runDir!,
      backend: { name, tfBackend, reason, info: backendInfo, skipped },
      seed: info.seed,
      trainableParams: lastTraining?.trainableParams ?? report?.trainable ?? 0,
      totalParams: lastTraining?.totalParams ?? report?.total ?? 0,
      parameterReport: lastTraining?.parameterReport ?? report?.text ?? '',
      durationMs: Date.now() - startedAt.getTime(),
      startedAt: folder.startedAt ?? startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      evaluations: records.evaluations,
      training: records.trainings,
      artifacts: child.resolve<RunDirectoryService>(Services.RunDirectory).artifacts,
      memory: { numTensorsBefore: 0, numTensorsAfter: 0, peakRssBytes: 0 },
      ...(failure ? { error: (failure as Error).message } : {}),
    };
  }
}

/** The newest completed run of `name` with this content hash that saved a merged model. */
export async function findArtifact(outRoot: string, name: string, hash: string): Promise<string | null> {
  const base = join(outRoot, name);
  const entries = await readdir(base).catch(() => [] as string[]);
  let best: { dir: string; finishedAt: string } | null = null;
  for (const entry of entries) {
    if (entry === 'latest' || entry.startsWith('.')) continue;
    try {
      const summary = JSON.parse(await readFile(join(base, entry, 'summary.json'), 'utf8')) as Partial<RunSummary>;
      if (summary.status !== 'completed' || summary.hash !== hash || !summary.artifacts?.merged) continue;
      const merged = join(base, entry, summary.artifacts.merged);
      if (!(await stat(join(merged, 'model.safetensors')).catch(() => null))) continue;
      if (!best || (summary.finishedAt ?? '') > best.finishedAt) best = { dir: merged, finishedAt: summary.finishedAt ?? '' };
    } catch {
      // no summary: an unfinished or foreign directory
    }
  }
  return best?.dir ?? null;
}
