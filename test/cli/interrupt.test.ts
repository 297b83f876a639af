import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import type { RunSummary } from '@rankwise/core';
import { spawnCli } from '../helpers/cli.js';
import { tinyCopies } from '../helpers/tiny-pipelines.js';

/** Starts a long digits run, sends `signals` once training logs a step, and returns what it left behind. */
async function interrupt(signals: NodeJS.Signals[]) {
  const { dir, path } = await tinyCopies({ 'pipelines/digits-base.json': { steps: 100_000, limit: 500 } });
  const out = join(dir, 'runs');
  const child = spawnCli(['run', path('digits-base.json'), '--out', out]);
  let stdout = '';
  let stderr = '';
  let sent = false;
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    if (/train\[1\] step \d+/.test(stdout) && !sent) {
      sent = true;
      for (const signal of signals) child.kill(signal);
    }
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  const runDir = /→ (\S*digits-base\/\d{8}-\d{6}\S*)/.exec(stdout)?.[1];
  const summary = JSON.parse(readFileSync(join(runDir!.startsWith('/') ? '' : process.cwd(), runDir!, 'summary.json'), 'utf8')) as RunSummary;
  return { code, stderr, summary, out };
}

test('Ctrl-C stops a run cleanly: exit 130, summary says interrupted, latest is not moved, the message says where the run is', async () => {
  const { code, stderr, summary, out } = await interrupt(['SIGINT']);
  expect(code).toBe(130);
  expect(stderr).toContain('Ctrl-C: stopping after the current step');
  expect(stderr).toMatch(/stopped by Ctrl-C; the partial run is in .*digits-base\/\d{8}-\d{6}/);
  expect(summary.status).toBe('interrupted');
  expect(summary.pid).toBeGreaterThan(0);
  expect(summary.host).toBe(hostname());
  expect(summary.error).toMatch(/interrupted during training step \d+\/100000/);
  expect(summary.memory.numTensorsAfter).toBe(summary.memory.numTensorsBefore);
  expect(existsSync(join(out, 'digits-base', 'latest'))).toBe(false); // latest only ever names a completed run
}, 120_000);

test('SIGTERM stops after the current step like Ctrl-C; a double Ctrl-C exits at once and still records "interrupted"', async () => {
  const term = await interrupt(['SIGTERM']);
  expect(term.code).toBe(130);
  expect(term.summary.status).toBe('interrupted');
  const double = await interrupt(['SIGINT', 'SIGINT']);
  expect(double.code).toBe(130);
  expect(double.summary.status).toBe('interrupted');
  expect(String(double.summary.error)).toMatch(/interrupted/);
}, 120_000);
