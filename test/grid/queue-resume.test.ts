import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { TrainStageSpec } from '@rankwise/core';
import type { GridResult } from '@rankwise/report';
import { redisMissing, startRedis, type RedisServer } from '../helpers/redis-server.js';
import { tinyCopies } from '../helpers/tiny-pipelines.js';
import { watchCli, type WatchedProcess } from '../helpers/watched-process.js';

/**
 * A queued cell runs in `<store>/cells/<hash>/`, so its training checkpoints live in the shared store: a worker
 * killed mid-cell leaves them there, and the attempt that takes the cell over resumes from the last one, with the
 * same numbers as an uninterrupted run.
 */
const QUEUE_ENV = { RANKWISE_QUEUE_LOCK_MS: '3000', RANKWISE_QUEUE_STALLED_MS: '500' };
const missing = redisMissing();
const gridJson = (out: string): GridResult => JSON.parse(readFileSync(join(out, 'digits-grid', 'latest', 'grid', 'grid.json'), 'utf8')) as GridResult;

/** The step-N checkpoint folders of the cells in the store. */
function storedCheckpoints(store: string): string[] {
  const cells = join(store, 'cells');
  if (!existsSync(cells)) return [];
  return readdirSync(cells).flatMap((cell) => {
    const root = join(cells, cell, 'checkpoints');
    if (!existsSync(root)) return [];
    return readdirSync(root).flatMap((stage) => readdirSync(join(root, stage)).filter((e) => /^step-\d+$/.test(e)));
  });
}

describe.skipIf(missing !== null)(`queued cells resume from the shared store${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let redis: RedisServer;
  const started: WatchedProcess[] = [];
  const start = (args: string[]) => {
    const p = watchCli(args, QUEUE_ENV);
    started.push(p);
    return p;
  };

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    for (const p of started) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await redis?.stop();
  });

  test('a worker killed after a checkpoint: the next worker resumes the cell from the store, bit-identical to a local run', async () => {
    // One LoRA cell, long enough to be killed mid-training, checkpointing every 20 steps.
    const grid = await tinyCopies({
      'pipelines/digits-base.json': { steps: 30, limit: 400 },
      'pipelines/digits-grid.json': {
        steps: 600,
        limit: 300,
        edit: (p) => {
          p.grid!.rank = [1];
          p.grid!.placement = p.grid!.placement.slice(2);
          delete p.grid!.fullFineTune;
          const train = p.stages.find((s) => s.stage === 'train') as TrainStageSpec;
          train.checkpointEvery = 20;
          train.batchSize = 16;
        },
      },
    });
    const local = start(['run', grid.path('digits-grid.json'), '--out', join(grid.dir, 'runs-local')]);
    expect(await local.exited, local.stderr()).toBe(0);
    const reference = gridJson(join(grid.dir, 'runs-local'));

    const queue = `${redis.url}/3`;
    const out = join(grid.dir, 'runs-queue');
    const store = join(out, 'queue-store');
    const w1 = start(['worker', '--queue', queue, '--name', 'w1']);
    const coordinator = start(['run', grid.path('digits-grid.json'), '--queue', queue, '--out', out]);
    await w1.waitFor(/^ {2}train: /m);
    const deadline = Date.now() + 60_000;
    while (storedCheckpoints(store).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    w1.child.kill('SIGKILL');
    await w1.exited;
    expect(w1.stdout()).not.toMatch(/^worker: done/m);
    expect(storedCheckpoints(store).length).toBeGreaterThan(0);

    const w2 = start(['worker', '--queue', queue, '--name', 'w2']);
    expect(await coordinator.exited, coordinator.stderr()).toBe(0);
    const resumedAt = /train: resuming at step (\d+)\/600 from its checkpoint/.exec(w2.stdout());
    expect(resumedAt, w2.stdout()).not.toBeNull();
    expect(Number(resumedAt![1]) % 20).toBe(0);
    expect(Number(resumedAt![1])).toBeGreaterThanOrEqual(20);

    const result = gridJson(out);
    expect(result.cells.map((c) => c.metrics)).toEqual(reference.cells.map((c) => c.metrics));
    expect(result.cells.map((c) => c.evaluations)).toEqual(reference.cells.map((c) => c.evaluations));
    // The result came back: the cell's folder in the store is gone.
    expect(readdirSync(join(store, 'cells'))).toEqual([]);
    w2.child.kill('SIGINT');
    expect(await w2.exited).toBe(0);
  }, 240_000);
});
