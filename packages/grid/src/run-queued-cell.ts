import { mkdtemp, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BackendRequest, LoadStageSpec } from '@rankwise/core';
import { CellProcessPool, CellRunFailed } from './cell-process.js';
import type { JobExecutor, QueuedJob } from './queue/cell-worker.js';
import type { CellJobData, CellJobResult } from './queue/job-types.js';
import { DEFAULT_PACK_LIMITS, packRunDir, takeOverCellFolder, storedCellDir, verifyCheckpoint, type PackLimits } from './queue/store.js';

export interface CellExecutorOptions {
  /** This machine's mount point of the shared store (default: the coordinator's path, as sent with each cell). */
  store?: string;
  /** Overrides the grid's backend on this machine. */
  backend?: BackendRequest;
  /** Worker name in results. */
  name: string;
  /** Lines a cell's run logs (stages, step, loss, ETA), with the cell's key. */
  onLog: (key: string, line: string) => void;
  limits?: PackLimits;
}

export interface CellExecutor {
  execute: JobExecutor<CellJobData, CellJobResult>;
  close(): Promise<void>;
}

/**
 * Runs queued grid cells: checks the published base against its hashes, runs the cell pipeline in a grid worker
 * process exactly as a local grid does (same validation, same runner), and returns the run's summary and files
 * (small ones inline; large ones through the store). The cell runs in `<store>/cells/<hash>/`, so its training
 * checkpoints are in the shared store: when an attempt dies (a killed worker, a lost machine, a failure), the next
 * attempt, on any machine, resumes from the last checkpoint instead of starting over. The folder goes once the
 * result is sent; `rankwise store prune` removes folders left by cells that never came back.
 */
export async function createCellExecutor(options: CellExecutorOptions): Promise<CellExecutor> {
  const scratch = await mkdtemp(join(tmpdir(), 'rankwise-worker-'));
  const pool = new CellProcessPool();
  const execute = async (job: QueuedJob<CellJobData>): Promise<CellJobResult> => {
    const data = job.data;
    if (data?.format !== 1)
      throw new Error(`job ${job.id}: not a rankwise cell of a format this worker reads (format ${String(data?.format)}); update rankwise on this machine`);
    const store = options.store ?? data.store;
    const pipeline = structuredClone(data.pipeline);
    for (const { stage, checkpoint } of data.checkpoints) {
      const dir = await verifyCheckpoint(store, checkpoint);
      const load = pipeline.stages[stage] as LoadStageSpec;
      delete load.from;
      load.checkpoint = dir;
    }
    const runDir = storedCellDir(store, data.hash);
    // This attempt holds the job's lock: an earlier attempt still marked running lost it (killed, stalled).
    await takeOverCellFolder(runDir, `attempt ${job.attempt} of job ${job.id} on ${options.name}`);
    const startedAt = Date.now();
    const request = { pipeline, baseDir: data.baseDir, runDir, outRoot: join(scratch, 'runs'), backend: options.backend ?? data.backend };
    let summary;
    try {
      summary = await pool.run(request, (line) => options.onLog(data.key, line), job.signal);
    } catch (error) {
      // The partial run (and its checkpoints) stays in the store for the next attempt.
      if (error instanceof CellRunFailed)
        throw new CellRunFailed(
          `${error.message.replace(`; partial run in ${runDir}`, '')} (on ${options.name}; checkpoints kept in ${runDir})`,
          error.interrupted,
        );
      throw error;
    }
    const files = await packRunDir(runDir, store, options.limits ?? DEFAULT_PACK_LIMITS);
    await rm(runDir, { recursive: true, force: true });
    return { format: 1, summary, files, worker: { name: options.name, host: hostname(), pid: process.pid }, startedAt, finishedAt: Date.now() };
  };
  return {
    execute,
    async close() {
      pool.close();
      await rm(scratch, { recursive: true, force: true });
    },
  };
}
