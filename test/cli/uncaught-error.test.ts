import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import type { RunSummary } from '@rankwise/core';
import { runCli } from '../helpers/cli.js';

/**
 * The uncaught-error exit path (cli/exit-paths.ts): an error nobody awaits, thrown while a run is active, ends the
 * process with exit 1 and one line, and the run's summary.json says failed, with the message, instead of running.
 */
async function crashingProject(how: 'throw' | 'reject'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'rankwise-crash-'));
  const root = join(dir, 'node_modules', 'rankwise-stage-crash');
  await mkdir(root, { recursive: true });
  await writeFile(
    join(root, 'package.json'),
    JSON.stringify({ name: 'rankwise-stage-crash', version: '1.0.0', type: 'module', main: 'index.js', keywords: ['rankwise-plugin'] }),
  );
  const crash = how === 'throw' ? "setTimeout(() => { throw new Error('boom from a timer'); }, 10);" : "Promise.reject(new Error('boom from a promise'));";
  await writeFile(
    join(root, 'index.js'),
    `export default {
  name: 'rankwise-stage-crash',
  description: 'fails outside any await, then waits',
  options: { type: 'object', additionalProperties: false, properties: {} },
  requires: ['model'],
  provides: [],
  run() { ${crash} return new Promise((resolve) => setTimeout(resolve, 60000)); },
};\n`,
  );
  await writeFile(
    join(dir, 'crash.json'),
    JSON.stringify({
      name: 'crash',
      stages: [{ stage: 'load', architecture: 'mlp', config: { sizes: [4, 3, 2] } }, { stage: 'rankwise-stage-crash' }],
    }),
  );
  return dir;
}

test.each([
  ['throw', 'boom from a timer'],
  ['reject', 'boom from a promise'],
] as const)('an uncaught %s during a run: exit 1, one line, summary failed with the message, latest not moved', async (how, message) => {
  const dir = await crashingProject(how);
  const out = join(dir, 'runs');
  const started = Date.now();
  const result = runCli(['run', join(dir, 'crash.json'), '--out', out]);
  expect(Date.now() - started).toBeLessThan(45_000); // did not wait for the stage's 60 s
  expect(result.status).toBe(1);
  expect(result.stderr.trim().split('\n')).toEqual([`✖ ${message}`]);
  const runs = readdirSync(join(out, 'crash')).filter((f) => /^\d{8}-\d{6}/.test(f));
  expect(runs).toHaveLength(1);
  const summary = JSON.parse(readFileSync(join(out, 'crash', runs[0], 'summary.json'), 'utf8')) as RunSummary;
  expect(summary.status).toBe('failed');
  expect(summary.error).toBe(`uncaught error: ${message}`);
  expect(existsSync(join(out, 'crash', 'latest'))).toBe(false);
});
