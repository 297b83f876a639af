import { mkdir } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { describeBackend, resolveBackend, type BackendRequest, type Rankwise, type ValidatedPipeline } from '@rankwise/core';
import { RunFolder } from '@rankwise/core/runs';
import { atomicWriteFile } from '@rankwise/formats';
import { writeGridReport, type GridResult } from '@rankwise/report';
import { analyseGrid, baseWeightsFile } from './analyses.js';
import { planCells } from './cells.js';
import { GridInterrupted, runCells, type CellOutcome } from './run-cells.js';
import { runCellsOnQueue, type GridQueueOptions } from './run-cells-queue.js';
import { gridResult } from './result.js';

export interface GridRunOptions {
  out?: string;
  signal?: AbortSignal;
  /** Recompute cells even when a finished run of the same configuration exists. */
  force?: boolean;
  /** Cells in parallel worker processes (each with its own TensorFlow.js); 1 runs them here. */
  workers?: number;
  backend?: BackendRequest;
  /** Run the cells on a BullMQ queue served by `rankwise worker`s instead of here (`workers` is then unused). */
  queue?: GridQueueOptions;
}

export interface GridRunResult {
  runDir: string;
  gridDir: string;
  result: GridResult;
  files: string[];
  failed: CellOutcome[];
}

/**
 * The expressivity-vs-rank grid: the base once (a `from` pipeline's cached result), then every (rank, placement)
 * cell and the full fine-tuning corner, each cached by content hash under runs/<name>/cells/ (so a re-run or an
 * interrupted grid only runs what is missing), then grid.json, grid.md, heatmap.svg, tradeoff.svg, report.html.
 */
export async function runGrid(rankwise: Rankwise, grid: ValidatedPipeline, options: GridRunOptions = {}): Promise<GridRunResult> {
  if (!grid.pipeline.grid) throw new Error(`${grid.display} has no "grid"`);
  const progress = rankwise.progressReporter;
  const outRoot = resolve(options.out ?? 'runs');
  const signal = options.signal ?? new AbortController().signal;
  const started = Date.now();
  const backend = await resolveBackend(options.backend ?? grid.pipeline.backend ?? 'auto');
  progress.info(describeBackend(backend));
  const dependency = grid.dependencies.get(0);
  const artifact = dependency ? await rankwise.runner.ensureArtifact(dependency, { outRoot, signal, backend, force: options.force }) : null;
  const cells = await planCells(rankwise, grid, outRoot, options.force ?? false);
  const folder = await RunFolder.create(outRoot, grid.pipeline.name, { hash: grid.hash, file: grid.display });
  const runDir = folder.dir;
  const gridDir = join(runDir, 'grid');
  await mkdir(gridDir, { recursive: true });
  await atomicWriteFile(join(runDir, 'pipeline.json'), `${JSON.stringify(grid.pipeline, null, 2)}\n`);
  progress.info(`grid ${grid.pipeline.name} → ${relative(process.cwd(), runDir) || runDir}`);
  const writeSummary = (status: 'completed' | 'failed' | 'interrupted', extra: Record<string, unknown>) =>
    folder.finish(
      { status, backend: backend.name, cells: cells.length, durationMs: Date.now() - started, finishedAt: new Date().toISOString(), ...extra },
      { markLatest: status === 'completed' },
    );
  let outcomes: CellOutcome[];
  try {
    outcomes = options.queue
      ? await runCellsOnQueue(cells, {
          rankwise,
          grid,
          outRoot,
          backend: options.backend ?? grid.pipeline.backend ?? 'auto',
          coordinatorBackend: backend,
          signal,
          progress,
          force: options.force ?? false,
          queue: options.queue,
        })
      : await runCells(cells, { rankwise, workers: options.workers ?? 1, outRoot, backend, signal, progress });
  } catch (error) {
    if (error instanceof GridInterrupted) await writeSummary('interrupted', { done: error.done, error: error.message });
    else await writeSummary('failed', { error: (error as Error).message });
    throw error;
  }
  // Queued cells ran wherever a worker took them: record the backends they actually used.
  const used = [...new Set(outcomes.flatMap((o) => (o.summary ? [o.summary.backend.name] : [])))];
  const result = gridResult(grid, outcomes, gridDir, options.queue && used.length > 0 ? used.join(', ') : backend.name);
  progress.info('grid: analyses (ΔW spectra, amplification factors, subspace similarity)…');
  let analysisError: string | undefined;
  try {
    result.analyses = await analyseGrid(outcomes, baseWeightsFile(grid, artifact));
  } catch (error) {
    // The cells' results stand on their own: write the grid without the analyses, and say why.
    analysisError = (error as Error).message;
    progress.info(`grid: analyses failed (${analysisError}); writing the grid without them`);
  }
  // A report needs at least one finished cell; with none, grid.json still says which cells failed and why.
  const files =
    result.cells.length > 0
      ? await writeGridReport(gridDir, result)
      : await atomicWriteFile(join(gridDir, 'grid.json'), `${JSON.stringify(result, null, 2)}\n`).then(() => ['grid.json']);
  const failed = outcomes.filter((o) => !o.summary);
  await writeSummary(failed.length > 0 ? 'failed' : 'completed', {
    cached: outcomes.filter((o) => o.cached).length,
    failed: failed.map((o) => ({ cell: o.cell.plan.key, error: o.error })),
    gridDir: relative(runDir, gridDir),
    files,
    ...(analysisError ? { analysisError } : {}),
  });
  progress.info(`grid: wrote ${files.join(', ')} → ${relative(process.cwd(), gridDir) || gridDir}`);
  return { runDir, gridDir, result, files, failed };
}
