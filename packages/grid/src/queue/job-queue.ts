import { Job, Queue, QueueEvents, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { checkRedis, openRedis, type RedisAddress } from './redis-url.js';
import { CELL_QUEUE, KEEP_FINISHED_S } from './settings.js';

export type JobPhase = 'queued' | 'running' | 'done' | 'failed';

export interface JobSpec<D> {
  /** The job id: the same work always has the same id, so submitting it twice queues it once. */
  id: string;
  name: string;
  data: D;
}

export interface SettledJob<R> {
  id: string;
  result?: R;
  error?: string;
  attemptsMade: number;
  /** When the job was added and finished (ms since the epoch, Redis clock). */
  addedAt: number;
  finishedAt: number;
}

export interface SubmitOptions {
  attempts: number;
  /** Replace finished jobs of the same ids instead of reusing their results. */
  force?: boolean;
  note?: (line: string) => void;
}

export interface WatchHandlers<R> {
  phase(id: string, phase: JobPhase): void;
  stalled?(id: string): void;
  /** Called once per job when it completes or fails for good; watch() waits for these to finish. */
  settled(job: SettledJob<R>): Promise<void>;
}

/**
 * The coordinator's side of the queue: submits jobs by id (idempotently), reattaches to jobs already queued,
 * running or finished, and follows them to the end through queue events, checking every job's state now and then
 * as well (events missed while disconnected are not lost).
 */
export class JobQueueClient<D, R> {
  private constructor(
    private readonly address: RedisAddress,
    private readonly connection: Redis,
    private readonly queue: Queue<unknown, unknown, string>,
    private readonly queueName: string,
  ) {}

  static async open<D, R>(address: RedisAddress, queueName = CELL_QUEUE): Promise<JobQueueClient<D, R>> {
    await checkRedis(address);
    const connection = openRedis(address, 'rankwise-coordinator');
    // Events only wake the coordinator (it reads results from the jobs), and a completed event carries the return
    // value: keep the stream short.
    const queue = new Queue<unknown, unknown, string>(queueName, { connection, streams: { events: { maxLen: 1000 } } });
    queue.on('error', (error) => console.error(`queue ${address.display}: ${error.message}`));
    await queue.waitUntilReady();
    return new JobQueueClient(address, connection, queue, queueName);
  }

  private jobOptions(id: string, attempts: number): JobsOptions {
    return { jobId: id, attempts, backoff: { type: 'fixed', delay: 1000 }, removeOnComplete: { age: KEEP_FINISHED_S }, removeOnFail: { age: KEEP_FINISHED_S } };
  }

  /**
   * Queues every job that is not on the queue yet; returns each job's phase (finished jobs keep their results) and
   * how many were on the queue already (reattached to, not added).
   */
  async submit(specs: JobSpec<D>[], options: SubmitOptions): Promise<{ phases: Map<string, JobPhase>; existing: number }> {
    const phases = new Map<string, JobPhase>();
    const toAdd: JobSpec<D>[] = [];
    const found = new Map<string, Job<D, R, string> | undefined>();
    for (let i = 0; i < specs.length; i += 50) {
      const chunk = specs.slice(i, i + 50);
      const jobs = await Promise.all(chunk.map((s) => Job.fromId<D, R, string>(this.queue, s.id)));
      chunk.forEach((s, k) => found.set(s.id, jobs[k]));
    }
    for (const spec of specs) {
      const job = found.get(spec.id);
      if (!job) {
        toAdd.push(spec);
        continue;
      }
      const state = await job.getState();
      if (options.force && state !== 'active') {
        await job.remove();
        toAdd.push(spec);
      } else if (state === 'failed') {
        // A failed cell runs again on the next grid run, as it would locally (the failure may have been the machine).
        await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
        options.note?.(`${spec.name}: failed on an earlier run (${job.failedReason}); queued again`);
        phases.set(spec.id, 'queued');
      } else {
        if (options.force && state === 'active') options.note?.(`${spec.name}: running on ${job.processedBy ?? 'a worker'}; --force reattaches to it`);
        phases.set(spec.id, phaseOf(state));
      }
    }
    for (let i = 0; i < toAdd.length; i += 100) {
      const chunk = toAdd.slice(i, i + 100);
      await this.queue.addBulk(chunk.map((s) => ({ name: s.name, data: s.data, opts: this.jobOptions(s.id, options.attempts) })));
      for (const s of chunk) phases.set(s.id, 'queued');
    }
    return { phases, existing: specs.length - toAdd.length };
  }

  /**
   * Follows `specs` until each has completed or failed for good, or until `signal` aborts (the jobs stay on the
   * queue). A job that disappeared from Redis (removed by hand) is queued again. True when all settled.
   */
  async watch(specs: JobSpec<D>[], attempts: number, handlers: WatchHandlers<R>, signal: AbortSignal, reconcileMs = 2000): Promise<boolean> {
    const byId = new Map(specs.map((s) => [s.id, s]));
    const pending = new Set(byId.keys());
    const busy = new Set<string>();
    const settling: Promise<void>[] = [];
    let wake = () => {};
    const again = new Set<string>();
    const check = async (id: string): Promise<void> => {
      if (!pending.has(id)) return;
      if (busy.has(id)) {
        again.add(id); // an event arrived while its state was being read: read it once more afterwards
        return;
      }
      busy.add(id);
      try {
        const state = await this.queue.getJobState(id);
        if (state === 'unknown') {
          const spec = byId.get(id)!;
          await this.queue.add(spec.name, spec.data, this.jobOptions(id, attempts));
          handlers.phase(id, 'queued');
        } else if (state === 'completed' || state === 'failed') {
          const job = await Job.fromId<D, R, string>(this.queue, id);
          if (!job) return void again.add(id);
          pending.delete(id);
          const settled: SettledJob<R> = {
            id,
            attemptsMade: job.attemptsMade,
            addedAt: job.timestamp,
            finishedAt: job.finishedOn ?? Date.now(),
            ...(state === 'completed' ? { result: job.returnvalue } : { error: job.failedReason || 'failed' }),
          };
          settling.push(handlers.settled(settled));
          wake();
        } else handlers.phase(id, phaseOf(state));
      } finally {
        busy.delete(id);
        if (again.delete(id)) await check(id);
      }
    };
    const eventsConnection = openRedis(this.address, 'rankwise-coordinator-events');
    const events = new QueueEvents(this.queueName, { connection: eventsConnection });
    events.on('error', () => {}); // the periodic check below covers what a broken event stream misses
    const onEvent = (id: string, phase?: JobPhase) => {
      if (!pending.has(id)) return;
      if (phase) handlers.phase(id, phase);
      else void check(id).catch(() => {});
    };
    events.on('active', ({ jobId }) => onEvent(jobId, 'running'));
    events.on('waiting', ({ jobId }) => onEvent(jobId, 'queued'));
    events.on('delayed', ({ jobId }) => onEvent(jobId, 'queued'));
    events.on('stalled', ({ jobId }) => {
      if (pending.has(jobId)) handlers.stalled?.(jobId);
      onEvent(jobId, 'queued');
    });
    events.on('completed', ({ jobId }) => onEvent(jobId));
    events.on('failed', ({ jobId }) => onEvent(jobId));
    events.on('removed', ({ jobId }) => onEvent(jobId));
    const onAbort = () => wake();
    signal.addEventListener('abort', onAbort);
    try {
      await events.waitUntilReady();
      while (pending.size > 0 && !signal.aborted) {
        const ids = [...pending];
        for (let i = 0; i < ids.length; i += 50) await Promise.all(ids.slice(i, i + 50).map(check));
        if (pending.size === 0 || signal.aborted) break;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, reconcileMs);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
      await Promise.all(settling);
      return pending.size === 0;
    } finally {
      signal.removeEventListener('abort', onAbort);
      await events.close();
      eventsConnection.disconnect();
    }
  }

  async close(): Promise<void> {
    await this.queue.close();
    this.connection.disconnect();
  }
}

function phaseOf(state: string): JobPhase {
  if (state === 'active') return 'running';
  if (state === 'completed') return 'done';
  if (state === 'failed') return 'failed';
  return 'queued';
}
