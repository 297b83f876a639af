import { fork, type ChildProcess } from 'node:child_process';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RunFailed, type ProgressReporter, type Rankwise, type ResolvedBackend, type RunSummary } from '@rankwise/core';
import { formatMetric } from '@rankwise/core/runs';
import type { PlannedCell } from './cells.js';
import type { ParentMessage, WorkerMessage } from './worker-protocol.js';

export interface CellOutcome {
  cell: PlannedCell;
  summary: RunSummary | null;
  cached: boolean;
  error?: string;
}

export interface RunCellsOptions {
  rankwise: Rankwise;
  workers: number;
  outRoot: string;
  backend: ResolvedBackend;
  signal: AbortSignal;
  progress: ProgressReporter;
}

/** Stopped part-way by the signal: finished cells stay cached, so running again resumes. */
export class GridInterrupted extends Error {
  constructor(
    readonly done: number,
    readonly total: number,
  ) {
    super(`grid interrupted after ${done} of ${total} cells; run it again to finish the rest (finished cells are reused)`);
    this.name = 'GridInterrupted';
  }
}

/** Runs every uncached cell, in this process or in `workers` child processes (each with its own TensorFlow.js). */
export async function runCells(cells: PlannedCell[], o: RunCellsOptions): Promise<CellOutcome[]> {
  const outcomes = new Map<PlannedCell, CellOutcome>();
  for (const cell of cells) if (cell.cached) outcomes.set(cell, { cell, summary: cell.cached, cached: true });
  const todo = cells.filter((c) => !c.cached);
  o.progress.info(
    `grid: ${cells.length} cells, ${cells.length - todo.length} finished earlier, ${todo.length} to run${todo.length > 0 ? ` (${Math.min(o.workers, todo.length)} at a time)` : ''}`,
  );
  let finished = 0;
  const report = (cell: PlannedCell, outcome: CellOutcome, ms: number) => {
    finished++;
    outcomes.set(cell, outcome);
    const metrics = outcome.summary?.evaluations.at(-1)?.metrics ?? {};
    const shown = Object.entries(metrics)
      .filter(([k]) => ['accuracy', 'bitsPerChar', 'loss'].includes(k))
      .map(([k, v]) => `${k} ${formatMetric(k, v)}`)
      .join(' ');
    o.progress.info(
      `grid: [${finished}/${todo.length}] ${cell.plan.key} ${outcome.error ? `failed: ${outcome.error}` : `done in ${(ms / 1000).toFixed(1)} s: ${shown}`}`,
    );
  };
  if (o.workers <= 1 || todo.length <= 1) {
    for (const cell of todo) {
      if (o.signal.aborted) throw new GridInterrupted(outcomes.size, cells.length);
      const started = performance.now();
      o.progress.info(`grid: running ${cell.plan.key}`);
      try {
        const { summary } = await o.rankwise.runner.run(cell.validated, { runDir: cell.dir, out: o.outRoot, resolvedBackend: o.backend, signal: o.signal });
        report(cell, { cell, summary, cached: false }, performance.now() - started);
      } catch (error) {
        if (error instanceof RunFailed && error.summary.status === 'interrupted') throw new GridInterrupted(outcomes.size, cells.length);
        report(cell, { cell, summary: null, cached: false, error: (error as Error).message }, performance.now() - started);
      }
    }
  } else if (await runInWorkers(todo, o, report)) {
    throw new GridInterrupted(outcomes.size, cells.length);
  }
  return cells.map((c) => outcomes.get(c)!);
}

function workerScript(): string {
  const here = fileURLToPath(import.meta.url);
  return fileURLToPath(new URL(`./worker${extname(here)}`, import.meta.url));
}

/** Runs `todo` in worker processes; true when the signal interrupted them (finished cells are reported either way). */
async function runInWorkers(todo: PlannedCell[], o: RunCellsOptions, report: (cell: PlannedCell, outcome: CellOutcome, ms: number) => void): Promise<boolean> {
  const queue = [...todo];
  let interrupted = false;
  const children: ChildProcess[] = [];
  const onAbort = () => {
    interrupted = true;
    for (const child of children) child.send({ type: 'abort' } satisfies ParentMessage);
  };
  o.signal.addEventListener('abort', onAbort);
  const workerCount = Math.min(o.workers, todo.length);
  try {
    await Promise.all(
      Array.from(
        { length: workerCount },
        (_, w) =>
          new Promise<void>((resolve, reject) => {
            const child = fork(workerScript(), [], { execArgv: process.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
            children.push(child);
            let current: { cell: PlannedCell; started: number; id: number } | null = null;
            let nextId = 0;
            const dispatch = () => {
              const cell = interrupted ? undefined : queue.shift();
              if (!cell) {
                child.send({ type: 'exit' } satisfies ParentMessage);
                return;
              }
              current = { cell, started: performance.now(), id: nextId++ };
              o.progress.info(`grid: [w${w + 1}] running ${cell.plan.key}`);
              child.send({
                type: 'run',
                id: current.id,
                pipeline: cell.plan.pipeline,
                baseDir: cell.validated.dir,
                runDir: cell.dir,
                outRoot: o.outRoot,
                backend: o.backend.name,
              } satisfies ParentMessage);
            };
            child.on('message', (message: WorkerMessage) => {
              if (message.type === 'ready') dispatch();
              else if (message.type === 'log') o.progress.info(`[w${w + 1}] ${message.line}`);
              else if (current && message.id === current.id) {
                const { cell, started } = current;
                current = null;
                if (message.type === 'done') report(cell, { cell, summary: message.summary, cached: false }, performance.now() - started);
                else if (message.interrupted) interrupted = true;
                else report(cell, { cell, summary: null, cached: false, error: message.message }, performance.now() - started);
                dispatch();
              }
            });
            child.on('exit', (code) =>
              current ? reject(new Error(`grid worker ${w + 1} exited (code ${code}) while running ${current.cell.plan.key}`)) : resolve(),
            );
            child.on('error', reject);
          }),
      ),
    );
  } finally {
    o.signal.removeEventListener('abort', onAbort);
    for (const child of children) if (child.exitCode === null) child.kill();
  }
  return interrupted;
}
