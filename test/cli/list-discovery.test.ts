import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect, test } from 'vitest';

const CLI = resolve('packages/cli/src/main.ts');
const TSX = resolve('node_modules/tsx/dist/esm/index.mjs');
const rankwise = (cwd: string, ...args: string[]) =>
  spawnSync(process.execPath, ['--conditions=source', '--import', TSX, CLI, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, FORCE_COLOR: '0', TSX_TSCONFIG_PATH: resolve('tsconfig.json') },
  });

const pipeline = (name: string) => JSON.stringify({ name, stages: [{ stage: 'load', architecture: 'mlp', config: { sizes: [784, 8, 10] } }] });

test('list finds the pipelines of a project, the root included; never package.json, lock files, tsconfig.json, node_modules or runs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rankwise-list-'));
  writeFileSync(join(dir, 'root-run.json'), pipeline('root-run'));
  mkdirSync(join(dir, 'experiments', 'rank'), { recursive: true });
  writeFileSync(join(dir, 'experiments', 'rank', 'r8.json'), pipeline('r8'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'my-project', stages: [] })); // even with a "stages" key
  writeFileSync(join(dir, 'package-lock.json'), JSON.stringify({ lockfileVersion: 3, stages: [] }));
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: {} }));
  writeFileSync(join(dir, 'settings.json'), JSON.stringify({ theme: 'dark' })); // JSON, but no pipeline
  for (const skipped of ['node_modules/some-pkg', 'runs/root-run/20261205-120000']) {
    mkdirSync(join(dir, skipped), { recursive: true });
    writeFileSync(join(dir, skipped, 'pipeline.json'), pipeline('not-this-one'));
  }
  const result = rankwise(dir, 'list');
  expect(result.status, result.stderr).toBe(0);
  const listed = [...result.stdout.matchAll(/^ {2}(\S+\.json) {2}/gm)].map((m) => m[1]);
  expect(listed).toEqual(['experiments/rank/r8.json', 'root-run.json']);
  expect(result.stdout).toContain('pipelines (2):');

  // A glob over the folder validates the pipelines, not the other tools' files.
  const validated = rankwise(dir, 'validate', '*.json');
  expect(validated.stdout + validated.stderr).not.toMatch(/package(-lock)?\.json|tsconfig\.json/);
  expect(validated.stdout + validated.stderr).toContain('settings.json'); // named by the glob and not a pipeline: reported
}, 60_000);
