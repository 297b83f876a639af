import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { runCli } from '../helpers/cli.js';

// `rankwise new plugin|stage <name>` writes a TypeScript package; here it is compiled with strict tsc and its own
// tests are run with Node's test runner, against this repository's @rankwise/core (its sources). The e2e test of
// installed packages installs a scaffolded stage into a project and runs a pipeline with it.
const scratch = mkdtempSync(join(resolve('test'), '.scaffold-')); // inside the repository: @rankwise/core resolves
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const tsx = createRequire(import.meta.url).resolve('tsx');

describe.each([
  ['plugin', 'rankwise-placement-biggest', /ok 1 - rankwise-placement-biggest: the largest matrices first[\s\S]*# pass 2/],
  ['stage', '@acme/stage-count', /ok 1 - @acme\/stage-count: counts parameter tensors[\s\S]*# pass 2/],
  ['dataset', 'rankwise-dataset-diagonal', /ok 1 - rankwise-dataset-diagonal: seeded classification data[\s\S]*# pass 1/],
] as const)('rankwise new %s', (kind, name, passed) => {
  const dir = join(scratch, kind);
  test('writes a package that compiles under strict tsc and passes its own tests', () => {
    const made = runCli(['new', kind, name, '--dir', dir]);
    expect(made.status, made.stderr).toBe(0);
    expect(made.stdout).toContain(`created ${kind} package ${name}`);
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name: string; keywords: string[]; peerDependencies: Record<string, string> };
    expect(pkg.name).toBe(name);
    expect(pkg.keywords).toContain('rankwise-plugin');
    expect(pkg.peerDependencies['@rankwise/core']).toBe('>=0.1.0');
    const built = spawnSync(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json'), '--customConditions', 'source'], { encoding: 'utf8' });
    expect(built.stdout + built.stderr).toBe('');
    const tested = spawnSync(process.execPath, ['--conditions=source', '--import', tsx, '--test', join(dir, 'dist/test/index.test.js')], { encoding: 'utf8' });
    expect(tested.status, tested.stdout + tested.stderr).toBe(0);
    expect(tested.stdout).toMatch(passed);
  }, 120_000);
});

test('a bad kind, a bad name or a folder that is not empty: exit 2, nothing written', () => {
  expect(runCli(['new', 'widget', 'rankwise-x']).stderr).toContain('new: found "widget", allowed: plugin, stage, dataset');
  const badName = runCli(['new', 'stage', 'My Stage', '--dir', join(scratch, 'bad')]);
  expect(badName.status).toBe(2);
  expect(badName.stderr).toMatch(/new stage: .*My Stage/);
  const full = mkdtempSync(join(scratch, 'full-'));
  writeFileSync(join(full, 'keep.txt'), 'mine');
  const refused = runCli(['new', 'plugin', 'rankwise-placement-x', '--dir', full]);
  expect(refused.status).toBe(2);
  expect(refused.stderr).toContain('is not empty; give a new folder with --dir');
  expect(readFileSync(join(full, 'keep.txt'), 'utf8')).toBe('mine');
});
