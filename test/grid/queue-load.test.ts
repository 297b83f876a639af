import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
// The queue modules alone, as the workers load them (no TensorFlow.js in this process).
import { JobQueueClient, type SettledJob } from '../../packages/grid/src/queue/job-queue.js';
import { parseRedisUrl } from '../../packages/grid/src/queue/redis-url.js';
import { redisMissing, startRedis, type RedisServer } from '../helpers/redis-server.js';

/**
 * Load on the queue itself: 200 trivial cells (each logs its id, waits 5 ms, returns ~2 KB) through the coordinator's
 * client and 4 worker processes on a real redis-server. Nothing lost, nothing run twice. Throughput and per-cell
 * queue overhead are printed (not asserted: timings belong to `pnpm bench`, and this machine is shared).
 */
const CELLS = 200;
const WORKERS = 4;
const CELL_MS = 5;
const missing = redisMissing();

interface Result {
  n: number;
  worker: string;
  startedAt: number;
  finishedAt: number;
  pad: string;
}

describe.skipIf(missing !== null)(`queue load${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let redis: RedisServer;
  const workers: ChildProcess[] = [];

  beforeAll(async () => {
    redis = await startRedis();
  }, 30_000);

  afterAll(async () => {
    for (const w of workers) if (w.exitCode === null) w.kill('SIGKILL');
    await redis?.stop();
  });

  test(`${CELLS} cells across ${WORKERS} workers: every cell runs exactly once and comes back`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rankwise-queue-load-'));
    const log = join(dir, 'executions.log');
    const address = parseRedisUrl(redis.url);
    await Promise.all(
      Array.from({ length: WORKERS }, (_, i) => {
        const child = spawn(
          process.execPath,
          ['--conditions=source', '--import', 'tsx', 'test/grid/fixtures/trivial-worker.ts', redis.url, `w${i + 1}`, log, String(CELL_MS), '2048'],
          {
            stdio: ['ignore', 'pipe', 'inherit'],
          },
        );
        workers.push(child);
        return new Promise<void>((resolve, reject) => {
          child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
          child.on('exit', (code) => reject(new Error(`worker ${i + 1} exited (${code}) before it was ready`)));
        });
      }),
    );

    const client = await JobQueueClient.open<{ n: number }, Result>(address);
    const specs = Array.from({ length: CELLS }, (_, n) => ({ id: `load-${String(n).padStart(4, '0')}`, name: `load/${n}`, data: { n } }));
    const settled: Array<SettledJob<Result> & { receivedAt: number }> = [];
    const t0 = Date.now();
    const { phases, existing } = await client.submit(specs, { attempts: 1 });
    const submitMs = Date.now() - t0;
    expect(existing).toBe(0);
    expect(phases.size).toBe(CELLS);
    const allDone = await client.watch(
      specs,
      1,
      { phase: () => {}, settled: async (job) => void settled.push({ ...job, receivedAt: Date.now() }) },
      new AbortController().signal,
      1000,
    );
    const wallMs = Date.now() - t0;
    expect(allDone).toBe(true);
    // Submitting again adds nothing: the ids are the identity, and the finished jobs keep their results.
    const again = await client.submit(specs, { attempts: 1 });
    expect(again.existing).toBe(CELLS);
    expect([...again.phases.values()].every((p) => p === 'done')).toBe(true);
    await client.close();

    // None lost: every id settled once, completed, with its own data.
    expect(settled).toHaveLength(CELLS);
    expect(new Set(settled.map((s) => s.id)).size).toBe(CELLS);
    for (const s of settled) {
      expect(s.error).toBeUndefined();
      expect(s.result!.n).toBe(Number(s.id.slice(5)));
      expect(s.result!.pad).toHaveLength(2048);
    }
    // None run twice: the workers' own log has each id exactly once.
    const executions = readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split(' '));
    expect(executions).toHaveLength(CELLS);
    expect(new Set(executions.map(([id]) => id)).size).toBe(CELLS);
    const perWorker = Object.fromEntries(Array.from({ length: WORKERS }, (_, i) => [`w${i + 1}`, executions.filter(([, w]) => w === `w${i + 1}`).length]));
    expect(Object.values(perWorker).reduce((a, b) => a + b, 0)).toBe(CELLS);

    await Promise.all(
      workers.map(
        (w) =>
          new Promise((resolve) => {
            w.on('exit', resolve);
            w.kill('SIGTERM');
          }),
      ),
    );

    const busyMs = settled.reduce((t, s) => t + (s.result!.finishedAt - s.result!.startedAt), 0);
    const overheadMs = (wallMs * WORKERS - busyMs) / CELLS;
    const pickupMs = settled.reduce((t, s) => t + (s.receivedAt - s.result!.finishedAt), 0) / CELLS;
    console.log(
      `[queue load] ${CELLS} cells of ${CELL_MS} ms on ${WORKERS} workers: ${wallMs} ms wall (${submitMs} ms to submit), ` +
        `${(CELLS / (wallMs / 1000)).toFixed(1)} cells/s; queue overhead ${overheadMs.toFixed(1)} worker-ms per cell ` +
        `((wall × workers − time in cells) / cells); result reaches the coordinator ${pickupMs.toFixed(1)} ms after the cell ends (mean); ` +
        `per worker ${JSON.stringify(perWorker)}`,
    );
  }, 120_000);
});
