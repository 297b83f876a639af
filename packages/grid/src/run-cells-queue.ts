import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { BackendRequest, LoadStageSpec, ProgressReporter, Rankwise, ResolvedBackend, ValidatedPipeline } from '@rankwise/core';
import { formatDuration, formatMetric } from '@rankwise/core/runs';
import type { PlannedCell } from './cells.js';
import { GridInterrupted, type CellOutcome } from './run-cells.js';
import type { CellJobData, CellJobResult, StoredCheckpoint } from './queue/job-types.js';
import { JobQueueClient, type JobPhase, type JobSpec, type SettledJob } from './queue/job-queue.js';
import type { RedisAddress } from './queue/redis-url.js';
import { DEFAULT_ATTEMPTS } from './queue/settings.js';
import { materializeCell, publishCheckpoint } from './queue/store.js';

export interface GridQueueOptions {
  address: RedisAddress;
  /** The shared store (default <out>/queue-store: fine while every worker runs on this machine). */
  store?: string;
  /** Attempts per cell before it is reported failed. */
  attempts?: number;
  /** How often every unfinished job's state is checked besides the queue's events (ms). */
  reconcileMs?: number;
}

export interface RunCellsOnQueueOptions {
  rankwise: Rankwise;
  grid: ValidatedPipeline;
  outRoot: string;
  /** What workers run cells on (their --backend overrides it). */
  backend: BackendRequest;
  /** This machine's backend, for a base that has to be trained first. */
  coordinatorBackend: ResolvedBackend;
  signal: AbortSignal;
  progress: ProgressReporter;
  force: boolean;
  queue: GridQueueOptions;
}

/**
 * The published checkpoint each of a cell's load stages reads, so a worker anywhere loads the same bytes. `cache`
 * maps a source directory (or `from:<hash>`) to its publication: every cell loads the same base, found (or trained)
 * and copied once.
 */
async function cellCheckpoints(
  cell: PlannedCell,
  o: RunCellsOnQueueOptions,
  store: string,
  cache: Map<string, Promise<StoredCheckpoint>>,
): Promise<CellJobData['checkpoints']> {
  const once = (key: string, make: () => Promise<StoredCheckpoint>): Promise<StoredCheckpoint> => {
    if (!cache.has(key)) cache.set(key, make());
    return cache.get(key)!;
  };
  const out: CellJobData['checkpoints'] = [];
  for (const [stage, spec] of cell.plan.pipeline.stages.entries()) {
    if (spec.stage !== 'load') continue;
    const load = spec as LoadStageSpec;
    if (load.checkpoint !== undefined) {
      const source = resolve(cell.validated.dir, load.checkpoint);
      out.push({ stage, checkpoint: await once(source, () => publishCheckpoint(store, source)) });
    } else if (load.from !== undefined) {
      const dependency = cell.validated.dependencies.get(stage);
      if (!dependency) throw new Error(`${cell.plan.key}: the "from" pipeline of stage ${stage} was not validated`);
      const found = () => o.rankwise.runner.ensureArtifact(dependency, { outRoot: o.outRoot, signal: o.signal, backend: o.coordinatorBackend, force: false });
      const checkpoint = await once(`from:${dependency.hash}`, async () => {
        const source = await found();
        const published = await publishCheckpoint(store, source);
        o.progress.info(`grid: base ${source} → ${join(store, published.dir)} (workers check its sha256 before use)`);
        return published;
      });
      out.push({ stage, checkpoint });
    }
  }
  return out;
}

/**
 * Runs the grid's unfinished cells on a BullMQ queue: one job per cell with the cell's content hash as its id
 * (queued once however often the grid is started), any number of `rankwise worker`s anywhere, results collected
 * from the jobs' return values into the same cell directories a local run writes. Stopping the coordinator leaves
 * the jobs running; starting it again reattaches to them.
 */
export async function runCellsOnQueue(cells: PlannedCell[], o: RunCellsOnQueueOptions): Promise<CellOutcome[]> {
  const outcomes = new Map<PlannedCell, CellOutcome>();
  for (const cell of cells) if (cell.cached) outcomes.set(cell, { cell, summary: cell.cached, cached: true });
  const todo = cells.filter((c) => !c.cached);
  const store = resolve(o.queue.store ?? join(o.outRoot, 'queue-store'));
  const attempts = o.queue.attempts ?? DEFAULT_ATTEMPTS;
  if (todo.length === 0) {
    o.progress.info(`grid: ${cells.length} cells, all finished earlier; nothing to queue`);
    return cells.map((c) => outcomes.get(c)!);
  }
  await mkdir(store, { recursive: true });
  const published = new Map<string, Promise<StoredCheckpoint>>();
  const specs: JobSpec<CellJobData>[] = [];
  const byId = new Map<string, PlannedCell>();
  for (const cell of todo) {
    const hash = cell.validated.hash;
    byId.set(hash, cell);
    const data: CellJobData = {
      format: 1,
      grid: o.grid.pipeline.name,
      key: cell.plan.key,
      hash,
      pipeline: cell.plan.pipeline,
      baseDir: cell.validated.dir,
      checkpoints: await cellCheckpoints(cell, o, store, published),
      store,
      backend: o.backend,
    };
    specs.push({ id: hash, name: `${o.grid.pipeline.name}/${cell.plan.key}`, data });
  }

  const client = await JobQueueClient.open<CellJobData, CellJobResult>(o.queue.address);
  try {
    const { phases, existing } = await client.submit(specs, { attempts, force: o.force, note: (line) => o.progress.info(`grid: ${line}`) });
    const count = (p: JobPhase) => [...phases.values()].filter((x) => x === p).length;
    const earlier =
      existing > 0 ? `; ${existing} already there from an earlier run (${count('running')} running, ${count('done') + count('failed')} finished)` : '';
    o.progress.info(
      `grid: ${cells.length} cells, ${cells.length - todo.length} finished earlier, ${todo.length} on the queue ${o.queue.address.display}${earlier}`,
    );
    o.progress.info(
      `grid: ${attempts} attempt${attempts === 1 ? '' : 's'} per cell; shared store ${store}; start workers with: rankwise worker --queue ${o.queue.address.display}`,
    );
    const started = performance.now();
    // Jobs that finished before this coordinator came are collected at once: the ETA counts only cells run since.
    const finishedBefore = count('done') + count('failed');
    let settled = 0;
    let lastLine = '';
    let lastAt = 0;
    const status = (force = false) => {
      const ranSince = settled - finishedBefore;
      const eta = ranSince > 0 ? ` · ETA ${formatDuration((((performance.now() - started) / ranSince) * (todo.length - settled)) / 1000)}` : '';
      const line = `grid: ${count('queued')} queued · ${count('running')} running · ${count('done')} done · ${count('failed')} failed${eta}`;
      const now = performance.now();
      if (line !== lastLine && (force || now - lastAt > 1000)) {
        o.progress.info(line);
        lastLine = line;
        lastAt = now;
      }
    };
    const settle = async (job: SettledJob<CellJobResult>) => {
      const cell = byId.get(job.id)!;
      settled++;
      let outcome: CellOutcome;
      if (job.result) {
        try {
          const summary = await materializeCell(cell.dir, job.result.files, job.result.summary, store);
          outcome = { cell, summary, cached: false };
        } catch (error) {
          outcome = { cell, summary: null, cached: false, error: `its result could not be collected: ${(error as Error).message}` };
        }
      } else outcome = { cell, summary: null, cached: false, error: `${job.error} (after ${job.attemptsMade} attempt${job.attemptsMade === 1 ? '' : 's'})` };
      outcomes.set(cell, outcome);
      phases.set(job.id, outcome.summary ? 'done' : 'failed');
      const metrics = outcome.summary?.evaluations.at(-1)?.metrics ?? {};
      const shown = Object.entries(metrics)
        .filter(([k]) => ['accuracy', 'bitsPerChar', 'loss'].includes(k))
        .map(([k, v]) => `${k} ${formatMetric(k, v)}`)
        .join(' ');
      const where = job.result ? ` on ${job.result.worker.name}` : '';
      o.progress.info(
        `grid: [${settled}/${todo.length}] ${cell.plan.key} ${outcome.error ? `failed: ${outcome.error}` : `done in ${(outcome.summary!.durationMs / 1000).toFixed(1)} s${where}: ${shown}`}`,
      );
      status(true);
    };
    const finished = await client.watch(
      specs,
      attempts,
      {
        phase: (id, phase) => {
          if (phases.get(id) === phase) return;
          phases.set(id, phase);
          status();
        },
        stalled: (id) => o.progress.info(`grid: ${byId.get(id)!.plan.key} stalled (its worker stopped renewing its lock); handed back to the queue`),
        settled: settle,
      },
      o.signal,
      o.queue.reconcileMs,
    );
    if (!finished) {
      o.progress.info(`grid: stopped waiting; the ${todo.length - settled} unfinished cells stay on the queue and workers keep running them`);
      throw new GridInterrupted(outcomes.size, cells.length);
    }
  } finally {
    await client.close();
  }
  return cells.map((c) => outcomes.get(c)!);
}
