import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { expect, test } from 'vitest';
import type { InjectStageSpec, Pipeline, RunSummary, TrainStageSpec } from '@rankwise/core';
import { runCli, spawnCli } from '../helpers/cli.js';
import { tinyCopies } from '../helpers/tiny-pipelines.js';

/**
 * Fault tests through the CLI: a run killed with SIGKILL (no handler runs) at a random moment of training or
 * saving, then resumed (or rerun), ends with exactly the artifacts of an uninterrupted run; concurrent runs of
 * one pipeline share one --out safely.
 */

const STEPS = 120;
const edit = (pipeline: Pipeline) => {
  for (const stage of pipeline.stages) {
    if (stage.stage === 'train') Object.assign(stage as TrainStageSpec, { checkpointEvery: 10, logEvery: 5, batchSize: 8, accumulateSteps: 2 }); // checkpoints fall between optimizer steps of 2 micro-batches
    if (stage.stage === 'inject') (stage as InjectStageSpec).dropout = 0.1; // a random stream the checkpoint must carry
  }
};

async function setup(steps = STEPS) {
  const copies = await tinyCopies({
    'pipelines/digits-base.json': { steps: 20, limit: 200 },
    'pipelines/digits-lora.json': { steps, limit: 200, edit },
  });
  return { ...copies, out: join(copies.dir, 'runs') };
}

const runDirs = (out: string, name: string) =>
  readdirSync(join(out, name), { withFileTypes: true })
    .filter((e) => e.isDirectory() && /^\d{8}-\d{6}/.test(e.name))
    .map((e) => join(out, name, e.name))
    .sort();

const summaryOf = (dir: string) => JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as RunSummary;

/** What must be identical between an uninterrupted run and a killed-then-resumed one. */
function artifacts(dir: string) {
  const summary = summaryOf(dir);
  return {
    adapter: readFileSync(join(dir, 'adapter', 'adapter_model.safetensors')),
    adapterConfig: readFileSync(join(dir, 'adapter', 'adapter_config.json'), 'utf8'),
    merged: readFileSync(join(dir, 'merged', 'model.safetensors')),
    evaluations: summary.evaluations,
    finalLoss: summary.training.map((t) => t.finalLoss),
  };
}

/** Starts the LoRA run and SIGKILLs it when `when` says so (polled every 10 ms); returns its run folder. */
async function killDuring(out: string, file: string, when: (runDir: string) => boolean): Promise<string> {
  const before = new Set(existsSync(join(out, 'digits-lora')) ? runDirs(out, 'digits-lora') : []);
  const child = spawnCli(['run', file, '--out', out, '--quiet']);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let done = false;
  void exited.then(() => (done = true));
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    if (done) break;
    const fresh = existsSync(join(out, 'digits-lora')) ? runDirs(out, 'digits-lora').filter((d) => !before.has(d)) : [];
    if (fresh.length === 1 && when(fresh[0])) {
      child.kill('SIGKILL');
      break;
    }
  }
  await exited;
  const fresh = runDirs(out, 'digits-lora').filter((d) => !before.has(d));
  expect(fresh).toHaveLength(1);
  return fresh[0];
}

const checkpointSteps = (runDir: string) => {
  const dir = join(runDir, 'checkpoints', 'train-4');
  return existsSync(dir)
    ? readdirSync(dir)
        .filter((e) => /^step-\d+$/.test(e))
        .map((e) => Number(e.slice(5)))
    : [];
};

test('SIGKILL during training, then --resume latest: same adapter, merged model and metrics, bit for bit; so after a kill at any moment (training, saving)', async () => {
  const { path, out } = await setup();
  const reference = runCli(['run', path('digits-lora.json'), '--out', out, '--quiet']);
  expect(reference.status, reference.stderr).toBe(0);
  const expected = artifacts(runDirs(out, 'digits-lora')[0]);

  const killed = await killDuring(out, path('digits-lora.json'), (dir) => checkpointSteps(dir).some((s) => s >= 30));
  expect(summaryOf(killed).status).toBe('running'); // SIGKILL: nothing could record the end…
  const listed = runCli(['runs', 'digits-lora', '--out', out]);
  expect(listed.stdout).toMatch(new RegExp(`${killed.split('/').pop()}\\s+abandoned`)); // …so it is reported abandoned
  expect(readlinkSync(join(out, 'digits-lora', 'latest'))).toBe(runDirs(out, 'digits-lora')[0].split('/').pop()); // still the completed run

  const resumed = runCli(['run', path('digits-lora.json'), '--out', out, '--resume', 'latest']);
  expect(resumed.status, resumed.stderr).toBe(0);
  expect(resumed.stdout).toMatch(/train: resuming at step \d+\/120/);
  const summary = summaryOf(killed);
  expect(summary.status).toBe('completed');
  expect(summary.resumedAt).toBeDefined();
  expect(artifacts(killed)).toEqual(expected);
  expect(existsSync(join(killed, 'checkpoints'))).toBe(false); // removed once the run completed
  expect(readlinkSync(join(out, 'digits-lora', 'latest'))).toBe(killed.split('/').pop());
  expect(runDirs(out, 'digits-base')).toHaveLength(1); // the base was built once and reused

  const base = summaryOf(runDirs(out, 'digits-lora')[0]).durationMs;
  // Then SIGKILL at random moments (training, saving) and resume or rerun: same artifacts; nothing half-written.
  await fc.assert(
    fc.asyncProperty(fc.double({ min: 0.3, max: 1.05, noNaN: true }), async (fraction) => {
      const t0 = Date.now();
      const killed = await killDuring(out, path('digits-lora.json'), () => Date.now() - t0 > 1500 + fraction * base);
      // Whatever exists is whole: a merged/ or adapter/ directory is complete or absent.
      if (existsSync(join(killed, 'merged'))) expect(readFileSync(join(killed, 'merged', 'model.safetensors'))).toEqual(expected.merged);
      if (existsSync(join(killed, 'adapter'))) expect(readFileSync(join(killed, 'adapter', 'adapter_model.safetensors'))).toEqual(expected.adapter);
      const status = summaryOf(killed).status;
      if (status === 'completed') {
        expect(artifacts(killed)).toEqual(expected);
        return;
      }
      const next =
        checkpointSteps(killed).length > 0
          ? runCli(['run', path('digits-lora.json'), '--out', out, '--quiet', '--resume', killed])
          : runCli(['run', path('digits-lora.json'), '--out', out, '--quiet']);
      expect(next.status, next.stderr).toBe(0);
      const finished = runDirs(out, 'digits-lora')
        .filter((d) => summaryOf(d).status === 'completed')
        .pop()!;
      expect(artifacts(finished)).toEqual(expected);
    }),
    { seed: 12, numRuns: 2, interruptAfterTimeLimit: 200_000 },
  );
}, 400_000);

test('six concurrent runs of one pipeline with one --out: all complete, the base is built once, latest names a completed run', async () => {
  const { path, out } = await setup(20);
  const children = Array.from({ length: 6 }, () => spawnCli(['run', path('digits-lora.json'), '--out', out, '--quiet']));
  const codes = await Promise.all(children.map((child) => new Promise<number | null>((resolve) => child.on('exit', resolve))));
  expect(codes).toEqual([0, 0, 0, 0, 0, 0]);
  expect(runDirs(out, 'digits-base')).toHaveLength(1);
  const runs = runDirs(out, 'digits-lora');
  expect(runs).toHaveLength(6);
  for (const dir of runs) expect(summaryOf(dir).status).toBe('completed');
  const latest = readlinkSync(join(out, 'digits-lora', 'latest'));
  expect(summaryOf(join(out, 'digits-lora', latest)).status).toBe('completed');
  expect(existsSync(join(out, 'digits-base', '.build.lock'))).toBe(false);
  const listed = spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', 'packages/cli/src/main.ts', 'runs', '--out', out], {
    encoding: 'utf8',
  });
  expect(listed.stdout.match(/completed/g)).toHaveLength(7);
}, 240_000);
