import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, expect, test } from 'vitest';
import { createRankwise, RunFailed, type Pipeline, type RunSummary } from '@rankwise/core';
import { FileLock, listRuns, observedStatus, resolveResumeTarget, ResumeError, RunFolder, SilentProgress } from '@rankwise/core/runs';
import { createDatasetSource } from '@rankwise/datasets';
import pattern from '@rankwise/placement-pattern';
import { useTestBackend } from '../helpers/backend.js';

beforeAll(async () => {
  await useTestBackend();
});

const rankwise = () => createRankwise({ progress: new SilentProgress(), datasets: createDatasetSource(), plugins: [pattern] });
const tmp = () => mkdtemp(join(tmpdir(), 'rankwise-runs-'));
/** A pid that certainly belonged to a process that has exited. */
const deadPid = () => spawnSync(process.execPath, ['-e', '0']).pid!;

const cell: Pipeline = {
  name: 'cell',
  seed: 5,
  stages: [
    { stage: 'load', architecture: 'mlp', config: { sizes: [784, 24, 10] } },
    { stage: 'freeze' },
    { stage: 'inject', r: 2, dropout: 0.2, placement: { plugin: '@rankwise/placement-pattern', options: { target: 'layers.*' } } },
    {
      stage: 'train',
      data: { dataset: 'digits', split: 'train', limit: 300 },
      steps: 150,
      batchSize: 16,
      checkpointEvery: 10,
      logEvery: 7,
      optimizer: { name: 'adamw', lr: 0.01 },
      schedule: { type: 'cosine', warmupSteps: 10 },
    },
    { stage: 'evaluate', data: { dataset: 'digits', split: 'test', limit: 200 } },
    { stage: 'save', adapter: true },
  ],
};

test('a summary says "running" with pid and host from the first moment; a running run whose process is gone is abandoned', async () => {
  const out = await tmp();
  const folder = await RunFolder.create(out, 'p', { hash: 'h' });
  const first = JSON.parse(await readFile(join(folder.dir, 'summary.json'), 'utf8')) as Record<string, unknown>;
  expect(first).toMatchObject({ pipeline: 'p', status: 'running', pid: process.pid, host: hostname(), hash: 'h' });
  expect(observedStatus(first)).toBe('running');
  expect(observedStatus({ ...first, pid: deadPid() })).toBe('abandoned');
  const old = new Date(Date.now() - 3_600_000).toISOString();
  expect(observedStatus({ status: 'running', host: 'elsewhere', pid: 1, updatedAt: old })).toBe('abandoned');
  expect(observedStatus({ status: 'running', host: 'elsewhere', pid: 1, updatedAt: new Date().toISOString() })).toBe('running');
  await folder.finish({ status: 'failed', error: 'x' }, { markLatest: true });
  expect(existsSync(join(out, 'p', 'latest'))).toBe(false); // only completed runs become latest
  expect((await listRuns(out, 'p')).map((r) => r.status)).toEqual(['failed']);
});

test('a lock held by a live process blocks; one left by a dead process is stale and taken over', async () => {
  const dir = await tmp();
  const file = join(dir, '.build.lock');
  const held = await FileLock.tryAcquire(file);
  expect(held).not.toBeNull();
  expect(await FileLock.tryAcquire(file)).toBeNull();
  await held!.release();
  await writeFile(file, JSON.stringify({ pid: deadPid(), host: hostname(), since: new Date().toISOString() }));
  const taken = await FileLock.tryAcquire(file);
  expect(taken).not.toBeNull();
  expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({ pid: process.pid });
  await taken!.release();
});

test('--resume refuses a completed run, a run of another pipeline, and a run whose pipeline changed', async () => {
  const out = await tmp();
  const small: Pipeline = { ...cell, name: 'small', stages: cell.stages.map((s) => (s.stage === 'train' ? { ...s, steps: 3 } : s)) };
  const { runDir } = await rankwise().run(small, { out });
  await expect(resolveResumeTarget(out, 'small', 'latest')).rejects.toThrow(/the newest run of small \(\S+\) completed; nothing to resume/);
  await expect(rankwise().run(small, { out, resume: runDir })).rejects.toThrow(ResumeError);
  await expect(rankwise().run({ ...small, name: 'other' }, { out, resume: runDir })).rejects.toThrow(/a run of "small", not of "other"/);
  const summary = JSON.parse(await readFile(join(runDir, 'summary.json'), 'utf8')) as RunSummary;
  await writeFile(join(runDir, 'summary.json'), JSON.stringify({ ...summary, status: 'interrupted' }));
  await expect(rankwise().run({ ...small, seed: 6 }, { out, resume: runDir })).rejects.toThrow(/the pipeline changed since that run/);
});

test('a grid cell folder (runDir) left with checkpoints resumes on the next run: same adapter and metrics as an uninterrupted cell', async () => {
  const out = await tmp();
  const whole = await rankwise().run(cell, { out, runDir: join(out, 'whole') });
  const cellDir = join(out, 'cells', 'cell-abc');
  const controller = new AbortController();
  const watch = setInterval(() => {
    const dir = join(cellDir, 'checkpoints', 'train-3');
    if (existsSync(dir) && readdirSync(dir).some((e) => /^step-0+(4|5|6)0$/.test(e))) controller.abort();
  }, 5);
  const first = await rankwise()
    .run(cell, { out, runDir: cellDir, signal: controller.signal })
    .then(
      () => null,
      (e: unknown) => e,
    );
  clearInterval(watch);
  expect(first).toBeInstanceOf(RunFailed);
  expect((first as RunFailed).summary.status).toBe('interrupted');
  const again = await rankwise().run(cell, { out, runDir: cellDir });
  expect(again.summary.resumedAt).toBeDefined();
  expect(again.summary.evaluations).toEqual(whole.summary.evaluations);
  expect(again.summary.training.map((t) => t.finalLoss)).toEqual(whole.summary.training.map((t) => t.finalLoss));
  expect(await readFile(join(cellDir, 'adapter', 'adapter_model.safetensors'))).toEqual(
    await readFile(join(out, 'whole', 'adapter', 'adapter_model.safetensors')),
  );
});
