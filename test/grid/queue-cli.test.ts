import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { TrainStageSpec } from '@rankwise/core';
import type { GridResult } from '@rankwise/report';
import { redisMissing, startRedis, type RedisServer } from '../helpers/redis-server.js';
import { tinyDigitsGrid as tinyGrid } from '../helpers/tiny-pipelines.js';
import { watchCli, type WatchedProcess } from '../helpers/watched-process.js';

/**
 * Grids on a BullMQ queue against a real redis-server: a coordinator (`rankwise run … --queue`) and worker
 * processes (`rankwise worker`), compared with a local run of the same grid. Short locks so a killed worker's cell
 * goes to another worker within seconds.
 */
const QUEUE_ENV = { RANKWISE_QUEUE_LOCK_MS: '3000', RANKWISE_QUEUE_STALLED_MS: '500' };
const missing = redisMissing();

/** The grid folder of the run `latest` names, or (a failed grid: `latest` moves only to completed runs) of the only run. */
const gridDir = (out: string, run = 'latest') => join(out, 'digits-grid', run, 'grid');
const gridJson = (out: string, run = 'latest'): GridResult => JSON.parse(readFileSync(join(gridDir(out, run), 'grid.json'), 'utf8')) as GridResult;
function onlyRun(out: string): string {
  const runs = readdirSync(join(out, 'digits-grid')).filter((entry) => entry !== 'latest' && entry !== 'cells'); // cells/: the grid's cell cache
  expect(runs).toHaveLength(1);
  return runs[0];
}
/** What must not depend on where a cell ran: its position, size and every number it produced. */
const numbers = (r: GridResult) =>
  r.cells
    .map((c) => ({ id: c.id, placement: c.placement, rank: c.rank, trainableParams: c.trainableParams, metrics: c.metrics, evaluations: c.evaluations }))
    .sort((a, b) => a.id.localeCompare(b.id));
const lines = (text: string, re: RegExp) => [...text.matchAll(re)].map((m) => m[1]);

function finishedCells(out: string): string[] {
  const root = join(out, 'digits-grid', 'cells');
  return readdirSync(root).filter((d) => {
    try {
      return JSON.parse(readFileSync(join(root, d, 'summary.json'), 'utf8')).status === 'completed';
    } catch {
      return false;
    }
  });
}

describe.skipIf(missing !== null)(`grid on a BullMQ queue${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let redis: RedisServer;
  let reference: GridResult;
  let grid: Awaited<ReturnType<typeof tinyGrid>>;
  const started: WatchedProcess[] = [];
  const start = (args: string[]) => {
    const p = watchCli(args, QUEUE_ENV);
    started.push(p);
    return p;
  };

  beforeAll(async () => {
    redis = await startRedis();
    grid = await tinyGrid();
    const local = start(['run', grid.path('digits-grid.json'), '--out', join(grid.dir, 'runs-local')]);
    expect(await local.exited, local.stderr()).toBe(0);
    reference = gridJson(join(grid.dir, 'runs-local'));
    expect(reference.cells).toHaveLength(5);
  }, 180_000);

  afterAll(async () => {
    for (const p of started) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await redis?.stop();
  });

  test('two workers, one killed with SIGKILL mid-cell: its cell goes to the other, every cell once, the same numbers as a local run', async () => {
    const queue = `${redis.url}/1`;
    const out = join(grid.dir, 'runs-queue');
    const w1 = start(['worker', '--queue', queue, '--name', 'w1']);
    const w2 = start(['worker', '--queue', queue, '--name', 'w2']);
    const coordinator = start(['run', grid.path('digits-grid.json'), '--queue', queue, '--out', out]);
    // Kill w1 once one of its cells is training (its cell process is loaded and running the train stage).
    await w1.waitFor(/^worker: running \S+/m);
    await w1.waitFor(/^ {2}train: /m);
    w1.child.kill('SIGKILL');
    const killedKey = lines(w1.stdout(), /^worker: running digits-grid\/(\S+)/gm).at(-1)!;
    expect(await coordinator.exited, coordinator.stderr()).toBe(0);
    expect(coordinator.stdout()).toContain('grid: 5 cells, 0 finished earlier, 5 on the queue');
    expect(coordinator.stdout()).toContain(`grid: ${killedKey} stalled`);

    // w1 never finished the killed cell; w2 ran it; across both, every cell ran to the end exactly once.
    expect(lines(w1.stdout(), /^worker: done digits-grid\/(\S+)/gm)).not.toContain(killedKey);
    expect(lines(w2.stdout(), /^worker: running digits-grid\/(\S+)/gm)).toContain(killedKey);
    const done = [...lines(w1.stdout(), /^worker: done digits-grid\/(\S+)/gm), ...lines(w2.stdout(), /^worker: done digits-grid\/(\S+)/gm)];
    expect(done.sort()).toEqual(['full', 'r1.all-layers', 'r1.last-two-layers', 'r4.all-layers', 'r4.last-two-layers']);

    const result = gridJson(out);
    expect(result.cells).toHaveLength(5);
    expect(new Set(result.cells.map((c) => c.id)).size).toBe(5);
    expect(result.failed).toBeUndefined();
    // Same seed, same backend: bit-identical metrics, parameter counts and analyses (the adapters came back intact).
    expect(numbers(result)).toEqual(numbers(reference));
    expect(result.analyses?.sites.length).toBeGreaterThan(0);
    expect(result.analyses).toEqual(reference.analyses);
    for (const f of ['grid.json', 'grid.md', 'heatmap.svg', 'tradeoff.svg', 'report.html']) expect(readdirSync(gridDir(out))).toContain(f);

    // A worker stops cleanly on Ctrl-C.
    w2.child.kill('SIGINT');
    expect(await w2.exited).toBe(0);
    expect(w2.stdout()).toContain('worker w2: stopping');
  }, 240_000);

  test('a coordinator killed mid-grid and started again reattaches to the queued cells and re-runs none', async () => {
    const queue = `${redis.url}/2`;
    const out = join(grid.dir, 'runs-restart');
    const workerA = start(['worker', '--queue', queue, '--quiet']);
    const first = start(['run', grid.path('digits-grid.json'), '--queue', queue, '--out', out]);
    await first.waitFor(/grid: \[2\/5\]/);
    // Stop the worker (it finishes the cell it has) and kill the coordinator outright: the rest stays queued.
    workerA.child.kill('SIGINT');
    first.child.kill('SIGKILL');
    await first.exited;
    expect(await workerA.exited).toBe(0);
    const collected = finishedCells(out).length;
    expect(collected).toBeGreaterThanOrEqual(2);
    expect(collected).toBeLessThan(5);

    const second = start(['run', grid.path('digits-grid.json'), '--queue', queue, '--out', out]);
    await second.waitFor(/on the queue/);
    expect(second.stdout()).toContain(
      `grid: 5 cells, ${collected} finished earlier, ${5 - collected} on the queue ${queue}; ${5 - collected} already there from an earlier run`,
    );
    const workerB = start(['worker', '--queue', queue, '--quiet']);
    expect(await second.exited, second.stderr()).toBe(0);
    workerB.child.kill('SIGINT');
    await workerB.exited;

    const ranA = lines(workerA.stdout(), /^worker: running digits-grid\/(\S+)/gm);
    const ranB = lines(workerB.stdout(), /^worker: running digits-grid\/(\S+)/gm);
    expect([...ranA, ...ranB].sort()).toEqual(['full', 'r1.all-layers', 'r1.last-two-layers', 'r4.all-layers', 'r4.last-two-layers']);
    const result = gridJson(out);
    expect(result.cells).toHaveLength(5);
    expect(result.cells.filter((c) => c.cached)).toHaveLength(collected);
    expect(numbers(result)).toEqual(numbers(reference));
  }, 240_000);

  test('a cell that fails every time is reported failed after its attempts, with its error, in the output, summary and report', async () => {
    // SGD with alpha = 1e10: the LoRA cell's gradient norm is infinite by step 2 on every try (the finite-value guard
    // stops it there, before the loss turns NaN); the full fine-tuning corner is fine.
    const failing = await tinyGrid((g, p) => {
      g.rank = [1];
      g.placement = g.placement.slice(0, 1);
      g.alpha = 1e10;
      g.fullFineTune = { lr: 0.01 };
      const train = p.stages.find((s) => s.stage === 'train') as TrainStageSpec;
      train.optimizer = { name: 'sgd', lr: 0.01 };
      delete train.schedule;
    });
    const queue = `${redis.url}/3`;
    const out = join(failing.dir, 'runs');
    const worker = start(['worker', '--queue', queue, '--name', 'w3']);
    const coordinator = start(['run', failing.path('digits-grid.json'), '--queue', queue, '--out', out, '--attempts', '2']);
    expect(await coordinator.exited).toBe(1);
    worker.child.kill('SIGINT');
    await worker.exited;
    expect(worker.stdout()).toMatch(/worker: failed digits-grid\/r1.last-two-layers \(attempt 1 of 2, to be tried again\): .*training diverged/);
    expect(worker.stdout()).toMatch(/worker: failed digits-grid\/r1.last-two-layers \(attempt 2 of 2\): .*training diverged/);
    expect(worker.stdout()).toMatch(/worker: done digits-grid\/full/);
    expect(coordinator.stderr()).toMatch(
      /✖ cell r1.last-two-layers failed: .*gradient norm is Infinity \(loss \S+\) at step \d+: training diverged.* \(on w3; checkpoints kept in \S+\) \(after 2 attempts\)/,
    );

    // A failed grid is not a result: `latest` does not move to it.
    expect(readdirSync(join(out, 'digits-grid'))).not.toContain('latest');
    const run = onlyRun(out);
    const result = gridJson(out, run);
    expect(result.cells.map((c) => c.kind)).toEqual(['full']);
    expect(result.failed).toHaveLength(1);
    expect(result.failed![0]).toMatchObject({ kind: 'lora', rank: 1, placement: 'last two layers' });
    expect(result.failed![0].error).toMatch(/training diverged/);
    const summary = JSON.parse(readFileSync(join(out, 'digits-grid', run, 'summary.json'), 'utf8'));
    expect(summary.status).toBe('failed');
    expect(summary.failed).toEqual([{ cell: 'r1.last-two-layers', error: expect.stringMatching(/diverged.*after 2 attempts/) }]);
    const markdown = readFileSync(join(gridDir(out, run), 'grid.md'), 'utf8');
    expect(markdown).toContain('## failed cells');
    expect(markdown).toMatch(/\| last two layers \| failed \|/);
    expect(readFileSync(join(gridDir(out, run), 'report.html'), 'utf8')).toContain('<h3>Failed cells</h3>');
  }, 180_000);
});
