#!/usr/bin/env node
/**
 * `pnpm bench:install [tarballDir]`: install size and time of the CLI alone and with each backend, as a user gets
 * them: the packed tarballs (`pnpm pack:all`, run first unless a folder of tarballs is given) installed with npm into
 * a fresh project in a temp folder, one project per set. Prints a table (the README's install section) and JSON, and
 * fails on any engine warning (EBADENGINE) in npm's output.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const root = mkdtempSync(join(tmpdir(), 'rankwise-install-size-'));
const tarballs = process.argv[2] ? resolve(process.argv[2]) : join(root, 'tarballs');
if (!process.argv[2]) {
  const packed = spawnSync(process.execPath, [join(repo, 'scripts/pack-all.mjs'), tarballs], { cwd: repo, stdio: ['ignore', 'ignore', 'inherit'] });
  if (packed.status !== 0) process.exit(1);
}
const all = readdirSync(tarballs).filter((f) => f.startsWith('rankwise-') && f.endsWith('.tgz'));
const pick = (...names) =>
  names.map((n) => {
    const file = all.find((f) => f.startsWith(`rankwise-${n}-`));
    if (!file) throw new Error(`no rankwise-${n}-*.tgz in ${tarballs}`);
    return join(tarballs, file);
  });
const CLI = ['cli', 'core', 'gguf', 'datasets', 'grid', 'report', 'observe', 'placement-pattern', 'placement-attention'];
const sets = [
  ['the CLI (core, datasets, grid, report, observe, both placement plugins)', pick(...CLI)],
  ['+ `@rankwise/backend-native`', pick(...CLI, 'backend-native')],
  ['+ `@rankwise/backend-webgpu` instead', pick(...CLI, 'backend-webgpu')],
];

const env = { ...process.env, npm_config_update_notifier: 'false', FORCE_COLOR: '0' };
delete env.NODE_OPTIONS;
const results = [];
for (const [label, files] of sets) {
  const project = join(root, `project-${results.length}`);
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), `${JSON.stringify({ name: 'size-check', version: '1.0.0', private: true, type: 'module' })}\n`);
  const started = Date.now();
  const npm = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--foreground-scripts', ...files], {
    cwd: project,
    encoding: 'utf8',
    env,
    maxBuffer: 64 << 20,
  });
  const seconds = (Date.now() - started) / 1000;
  if (npm.status !== 0) {
    console.error(`${label}: npm install failed:\n${npm.stdout}\n${npm.stderr}`);
    process.exit(1);
  }
  const bytes = Number(spawnSync('du', ['-sb', join(project, 'node_modules')], { encoding: 'utf8' }).stdout.split('\t')[0]);
  const engineWarnings = `${npm.stdout}\n${npm.stderr}`.split('\n').filter((l) => /EBADENGINE|Unsupported engine/.test(l));
  results.push({ label, megabytes: Math.round(bytes / 1e6), seconds: Math.round(seconds), engineWarnings });
  console.error(`${label}: ${Math.round(bytes / 1e6)} MB, ${seconds.toFixed(1)} s${engineWarnings.length ? `, ${engineWarnings.length} engine warnings` : ''}`);
}
rmSync(root, { recursive: true, force: true });

console.log(`npm ${spawnSync('npm', ['--version'], { encoding: 'utf8' }).stdout.trim()}, Node ${process.versions.node}, cold project, warm npm cache\n`);
console.log('| installed | `node_modules` | time |\n| --- | ---: | ---: |');
for (const r of results) console.log(`| ${r.label} | ${r.megabytes} MB | ${r.seconds} s |`);
console.log(`\n${JSON.stringify(results)}`);
if (results.some((r) => r.engineWarnings.length > 0)) {
  console.error(results.flatMap((r) => r.engineWarnings).join('\n'));
  process.exit(1);
}
