import { hostname } from 'node:os';
import { Worker, type Job } from 'bullmq';
import { openRedis, type RedisAddress } from './redis-url.js';
import { CELL_QUEUE, stallSettings, type StallSettings } from './settings.js';

/** One attempt at one queued job, as an executor sees it. */
export interface QueuedJob<D> {
  id: string;
  data: D;
  /** 1 for the first attempt. */
  attempt: number;
  attempts: number;
  /** Aborted when the worker is told to quit at once. */
  signal: AbortSignal;
}

export type JobExecutor<D, R> = (job: QueuedJob<D>) => Promise<R>;

export interface CellWorkerOptions<D, R> {
  address: RedisAddress;
  executor: JobExecutor<D, R>;
  /** Jobs this worker runs at once. */
  concurrency?: number;
  /** Shown in logs and stored on each job it processes. */
  name?: string;
  stall?: Partial<StallSettings>;
  queueName?: string;
  /** Called for every job this worker starts, finishes or fails. */
  onJob?: (event: WorkerJobEvent) => void;
}

export type WorkerJobEvent =
  | { type: 'started'; id: string; attempt: number; attempts: number; data: unknown }
  | { type: 'completed'; id: string; ms: number; data: unknown }
  | { type: 'failed'; id: string; attempt: number; attempts: number; ms: number; error: string; data: unknown };

export interface CellWorker {
  name: string;
  /** Resolves once connected to Redis and taking jobs. */
  ready(): Promise<void>;
  /** Stops taking jobs; waits for running ones (force: gives them up, they stall and go to another worker). */
  close(force?: boolean): Promise<void>;
}

/** A BullMQ worker on the cell queue: fetches jobs, keeps their locks, runs them with `executor`, reports back. */
export function startCellWorker<D, R>(options: CellWorkerOptions<D, R>): CellWorker {
  const name = options.name ?? `${hostname()}:${process.pid}`;
  const stall = { ...stallSettings(), ...options.stall };
  const connection = openRedis(options.address, `rankwise-worker ${name}`);
  const aborts = new AbortController();
  const worker = new Worker<D, R>(
    options.queueName ?? CELL_QUEUE,
    async (job: Job<D, R>) => {
      const id = job.id!;
      const attempt = job.attemptsMade + 1;
      const attempts = job.opts.attempts ?? 1;
      const started = performance.now();
      options.onJob?.({ type: 'started', id, attempt, attempts, data: job.data });
      try {
        const result = await options.executor({ id, data: job.data, attempt, attempts, signal: aborts.signal });
        options.onJob?.({ type: 'completed', id, ms: performance.now() - started, data: job.data });
        return result;
      } catch (error) {
        options.onJob?.({ type: 'failed', id, attempt, attempts, ms: performance.now() - started, error: (error as Error).message, data: job.data });
        throw error;
      }
    },
    {
      connection,
      name,
      concurrency: options.concurrency ?? 1,
      lockDuration: stall.lockDurationMs,
      stalledInterval: stall.stalledIntervalMs,
      maxStalledCount: stall.maxStalledCount,
    },
  );
  worker.on('error', (error) => console.error(`worker ${name}: ${error.message}`));
  return {
    name,
    ready: async () => {
      await worker.waitUntilReady();
    },
    async close(force = false) {
      if (force) aborts.abort();
      await worker.close(force);
      connection.disconnect();
    },
  };
}
