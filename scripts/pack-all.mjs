#!/usr/bin/env node
/**
 * `pnpm pack:all [outDir]`: builds every package (tsc -b tsconfig.build.json) and packs each public workspace
 * package with `pnpm pack` into outDir (default dist-packages/), so they install into any npm project:
 *   npm install ./dist-packages/*.tgz
 * pnpm replaces `workspace:*` with the real versions. Each tarball is then checked: built JS and .d.ts for every
 * export, no `workspace:` left, the `rankwise` bin with its shebang, core's schema/, the native addon's sources.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = resolve(process.argv[2] ?? join(root, 'dist-packages'));

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', ...options });
  if (result.status !== 0) {
    process.stdout.write(result.stdout ?? '');
    console.error(`pack:all: ${command} ${args.join(' ')} failed (${result.error?.message ?? `exit ${result.status}`})`);
    process.exit(1);
  }
  return result.stdout;
}

const started = Date.now();
const tsc = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
run(process.execPath, [tsc, '-b', 'tsconfig.build.json'], { stdio: 'inherit' });
console.log(`pack:all: built in ${((Date.now() - started) / 1000).toFixed(1)} s`);

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
// Under `pnpm pack:all`, npm_execpath is pnpm itself; otherwise the pinned pnpm through npx.
const execpath = process.env.npm_execpath ?? '';
const pnpm = /pnpm/.test(execpath) ? (/\.[cm]?js$/.test(execpath) ? [process.execPath, [execpath]] : [execpath, []]) : ['npx', ['-y', 'pnpm@12.4.2']];
run(pnpm[0], [...pnpm[1], '-r', '--reporter=silent', 'pack', '--pack-destination', out]);

/** What every tarball must hold, by package. */
const required = {
  '@rankwise/core': [
    'package/dist/index.js',
    'package/dist/index.d.ts',
    'package/dist/plugin.js',
    'package/dist/plugin.d.ts',
    'package/schema/pipeline.schema.json',
  ],
  '@rankwise/cli': ['package/dist/main.js', 'package/dist/index.d.ts'],
  '@rankwise/backend-native': ['package/scripts/build-addon.mjs', 'package/native/rw_addon.c'],
  '@rankwise/observe': ['package/static/index.html', 'package/static/app.js', 'package/static/app.css', 'package/dist/ui/server.js'],
};
const tarballs = readdirSync(out)
  .filter((f) => f.endsWith('.tgz'))
  .sort();
for (const tarball of tarballs) {
  const file = join(out, tarball);
  const files = new Set(run('tar', ['-tzf', file]).split('\n'));
  const pkg = JSON.parse(run('tar', ['-xzOf', file, 'package/package.json']));
  const problems = [];
  for (const needed of ['package/dist/index.js', 'package/dist/index.d.ts', ...(required[pkg.name] ?? [])]) {
    if (!files.has(needed)) problems.push(`missing ${needed.slice('package/'.length)}`);
  }
  if (JSON.stringify(pkg).includes('workspace:')) problems.push('a "workspace:" version was left in package.json');
  if (pkg.bin) {
    for (const bin of Object.values(pkg.bin)) {
      const text = run('tar', ['-xzOf', file, `package/${bin.replace(/^\.\//, '')}`]);
      if (!text.startsWith('#!/usr/bin/env node\n')) problems.push(`bin ${bin} has no "#!/usr/bin/env node" line`);
    }
  }
  if (problems.length > 0) {
    console.error(`pack:all: ${tarball}: ${problems.join('; ')}`);
    process.exit(1);
  }
  console.log(`pack:all: ${tarball} (${files.size - 1} files) ✓`);
}
console.log(`pack:all: ${tarballs.length} packages in ${out} (${((Date.now() - started) / 1000).toFixed(1)} s); install with: npm install ${out}/*.tgz`);
