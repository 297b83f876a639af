import { fork, type ChildProcess } from 'node:child_process';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunSummary } from '@rankwise/core';
import type { ParentMessage, RunCellMessage, WorkerMessage } from './worker-protocol.js';

export type CellRequest = Omit<RunCellMessage, 'type' | 'id'>;

/** A cell that ran and failed (its error as the run reported it); a crashed process is a plain Error. */
export class CellRunFailed extends Error {
  constructor(
    message: string,
    readonly interrupted: boolean,
  ) {
    super(message);
    this.name = 'CellRunFailed';
  }
}

const workerScript = () => fileURLToPath(new URL(`./worker${extname(fileURLToPath(import.meta.url))}`, import.meta.url));

/**
 * One grid worker process (the same worker.ts `--workers N` forks, so a queued cell runs exactly as a local one):
 * its own TensorFlow.js, one cell at a time. The queue worker's own process only talks to Redis, so its job locks
 * are renewed on time however long a training step blocks.
 */
class CellProcess {
  private readonly child: ChildProcess;
  private readonly ready: Promise<void>;
  private pending: { id: number; resolve: (s: RunSummary) => void; reject: (e: Error) => void; log: (line: string) => void } | null = null;
  private nextId = 0;
  exited = false;

  constructor() {
    // Its own process group: a terminal Ctrl-C reaches only the queue worker, which lets running cells finish.
    this.child = fork(workerScript(), [], { execArgv: process.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'], detached: true });
    this.ready = new Promise((resolve, reject) => {
      this.child.on('message', (message: WorkerMessage) => {
        if (message.type === 'ready') return resolve();
        if (message.type === 'log') return this.pending?.log(message.line);
        const pending = this.pending;
        if (!pending || message.id !== pending.id) return;
        this.pending = null;
        if (message.type === 'done') pending.resolve(message.summary);
        else pending.reject(new CellRunFailed(message.message, message.interrupted));
      });
      this.child.on('exit', (code, signal) => {
        this.exited = true;
        const error = new Error(`cell process ${this.child.pid} exited (${signal ?? `code ${code}`})`);
        reject(error);
        this.pending?.reject(error);
        this.pending = null;
      });
      this.child.on('error', reject);
    });
  }

  async run(request: CellRequest, log: (line: string) => void): Promise<RunSummary> {
    await this.ready;
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      this.pending = { id, resolve, reject, log };
      this.child.send({ type: 'run', id, ...request } satisfies ParentMessage);
    });
  }

  abort(): void {
    if (!this.exited) this.child.send({ type: 'abort' } satisfies ParentMessage);
  }

  kill(): void {
    if (!this.exited) this.child.kill();
  }
}

/** Up to `size` cell processes, started on demand and reused; a process that died is replaced. */
export class CellProcessPool {
  private readonly idle: CellProcess[] = [];
  private readonly all = new Set<CellProcess>();

  /** Runs one cell; `log` gets the lines its run reports (stages, steps, loss, ETA). */
  async run(request: CellRequest, log: (line: string) => void, signal?: AbortSignal): Promise<RunSummary> {
    const proc = this.idle.pop() ?? new CellProcess();
    this.all.add(proc);
    const onAbort = () => proc.abort();
    signal?.addEventListener('abort', onAbort);
    try {
      return await proc.run(request, log);
    } finally {
      signal?.removeEventListener('abort', onAbort);
      // A process whose cell was interrupted keeps an aborted signal: never reuse it.
      if (proc.exited || signal?.aborted) {
        proc.kill();
        this.all.delete(proc);
      } else this.idle.push(proc);
    }
  }

  close(): void {
    for (const proc of this.all) proc.kill();
    this.all.clear();
    this.idle.length = 0;
  }
}
