import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import type { RunSummary } from '@rankwise/core';
import { spawnCli } from '../helpers/cli.js';
import { tinyCopies } from '../helpers/tiny-pipelines.js';

test('Ctrl-C stops a run cleanly: exit 130, summary says interrupted, and the message says where the run is', async () => {
  const { dir, path } = await tinyCopies({ 'pipelines/digits-base.json': { steps: 100_000, limit: 500 } });
  const out = join(dir, 'runs');
  const child = spawnCli(['run', path('digits-base.json'), '--out', out]);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    if (/train\[1\] step \d+/.test(stdout) && !child.killed) child.kill('SIGINT');
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  expect(code).toBe(130);
  expect(stderr).toContain('Ctrl-C: stopping after the current step');
  expect(stderr).toMatch(/stopped by Ctrl-C; the partial run is in .*digits-base\/\d{8}-\d{6}/);
  const summary = JSON.parse(readFileSync(join(out, 'digits-base', 'latest', 'summary.json'), 'utf8')) as RunSummary;
  expect(summary.status).toBe('interrupted');
  expect(summary.error).toMatch(/interrupted during training step \d+\/100000/);
  expect(summary.memory.numTensorsAfter).toBe(summary.memory.numTensorsBefore);
}, 120_000);
