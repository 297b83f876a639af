import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { scaffoldFiles, type PackageKind } from '../../packages/cli/src/scaffold/templates.js';

/**
 * Outside authors compile against `@rankwise/core/plugin` with a default strict tsconfig, without `skipLibCheck`:
 * its declaration files (emitted here from core's sources, as `pnpm build` emits them) must reach no TensorFlow.js,
 * DOM or WebGPU types. In a project in a temp folder: the fixture plugin, stage and dataset packages of the e2e test
 * (their index.d.ts), a TypeScript stage that reads LoRA factors and ΔW through the plugin API, and the three
 * packages `rankwise new` scaffolds, each compiled with plain `tsc --strict`. `@ts-expect-error` lines show that the
 * types still refuse a wrong option (tsc fails on one that is not an error).
 */
const repo = resolve('.');
const require = createRequire(import.meta.url);
const tsc = require.resolve('typescript/bin/tsc');
const root = realpathSync(mkdtempSync(join(tmpdir(), 'rankwise-plugin-types-')));
const modules = join(root, 'node_modules');
const core = join(modules, '@rankwise', 'core');
/** @rankwise/models: the plugin entry reaches its tfjs-free subpaths (description, types/*) for types and ConfigError. */
const models = join(modules, '@rankwise', 'models');

function run(args: string[], cwd = root): Promise<{ status: number | null; output: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [tsc, ...args], { cwd });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d));
    child.stderr.on('data', (d: Buffer) => (output += d));
    child.on('close', (status) => done({ status, output }));
  });
}

/** A folder of the repository's node_modules, linked into the temp project's (resolved through core's own). */
function link(name: string, from: string): void {
  const target = realpathSync(join(from, 'node_modules', name));
  mkdirSync(dirname(join(modules, name)), { recursive: true });
  symlinkSync(target, join(modules, name), 'dir');
}

const KINDS: PackageKind[] = ['plugin', 'stage', 'dataset'];
let checked: { status: number | null; output: string } = { status: null, output: '' };

const CONSUMER = `import {
  defineStage, loraModules, readLoraDelta, readLoraFactors, type ModelLike, type ParameterLike, type Site, type StageContext, type TensorLike,
} from '@rankwise/core/plugin';
import largest from 'rankwise-placement-largest';
import norms from 'rankwise-stage-adapter-norms';
import rings from 'rankwise-dataset-rings';

// The fixture packages' declared types: right options compile, wrong ones do not.
const sites: Site[] = [{ path: 'layers.0', inFeatures: 784, outFeatures: 32, layer: 0, role: 'hidden', adapted: false }];
export const chosen: string[] = largest.select(sites, { k: 1 }).map((c) => c.path);
// @ts-expect-error k is a number
largest.select(sites, { k: 'one' });
export const normsOf = async (ctx: StageContext): Promise<number | undefined> => (await norms.run({ file: 'n.json' }, ctx))['layers.0'];
// @ts-expect-error file is a string
export const badNorms = (ctx: StageContext) => norms.run({ file: 3 }, ctx);
export const opened = rings.open({ dataset: 'rankwise-dataset-rings', rings: 3 }, {} as never);
// @ts-expect-error rings is a number
export const badRings = rings.open({ dataset: 'rankwise-dataset-rings', rings: 'three' }, {} as never);

// A stage that touches the adapter's tensors through the plugin API alone.
export interface Options { top: number }
export interface Result { norms: Array<{ path: string; delta: number; a: number }>; backend: string }
declare module '@rankwise/core/plugin' {
  interface StagePackages {
    'rankwise-stage-top-delta': { options: Options; result: Result };
  }
}
const frobenius = (values: Float32Array): number => Math.sqrt(values.reduce((s, v) => s + v * v, 0));
export const topDelta = defineStage<Options, Result>({
  name: 'rankwise-stage-top-delta',
  description: 'The largest ‖ΔW‖ of the adapted sites.',
  options: { type: 'object', required: ['top'], properties: { top: { type: 'integer', minimum: 1, description: 'How many.' } } },
  requires: ['model', 'adapter'],
  provides: [],
  async run(options, ctx) {
    const model: ModelLike = ctx.model.require(ctx.name);
    const factors = await readLoraFactors(model);
    const out: Result['norms'] = [];
    for (const [path, module] of loraModules(model)) {
      const delta = await readLoraDelta(module);
      const a = factors.find((f) => f.path === path && f.active)?.a.data ?? new Float32Array();
      out.push({ path, delta: frobenius(delta.data), a: frobenius(a) });
    }
    const first: ParameterLike | undefined = model.trainableParameters()[0];
    const tensor: TensorLike | undefined = first;
    if (first && tensor) ctx.progress.info(\`\${first.name}: [\${tensor.shape.join(', ')}] \${tensor.dtype}\`);
    // @ts-expect-error the plugin view cannot replace the model (that needs core's TensorFlow.js types)
    ctx.model.set(model, 'here');
    return { norms: out.sort((x, y) => y.delta - x.delta).slice(0, options.top), backend: ctx.backend.name };
  },
});
// @ts-expect-error top is a number
export const badTop = (ctx: StageContext) => topDelta.run({ top: 'two' }, ctx);
`;

beforeAll(async () => {
  // @rankwise/core as installed: package.json exports ./plugin → dist/plugin.d.ts, the declarations tsc emits; the
  // workspace packages resolve to their sources (the `source` condition), so models' subpaths are emitted beside it.
  const emit = join(root, 'emit');
  const modelsPkg = JSON.parse(readFileSync(join(repo, 'packages/models/package.json'), 'utf8')) as {
    exports: Record<string, { source: string; types: string }>;
  };
  const subpaths = Object.entries(modelsPkg.exports).filter(([key]) => key !== '.');
  // files found through node_modules are not emitted: the subpaths' sources are roots of their own
  const subpathSources = subpaths.map(([, value]) => join(repo, 'packages/models', value.source));
  const emitted = await run(
    [
      join(repo, 'packages/core/src/plugin.ts'),
      ...subpathSources,
      '--declaration',
      '--emitDeclarationOnly',
      '--outDir',
      emit,
      '--rootDir',
      join(repo, 'packages'),
      '--module',
      'NodeNext',
      '--moduleResolution',
      'NodeNext',
      '--customConditions',
      'source',
      '--target',
      'ES2022',
      '--strict',
      '--skipLibCheck',
      '--types',
      'node',
    ],
    repo,
  );
  if (emitted.status !== 0) throw new Error(`emitting core's plugin declarations failed:\n${emitted.output}`);
  cpSync(join(emit, 'core/src'), join(core, 'dist'), { recursive: true });
  cpSync(join(emit, 'models/src'), join(models, 'dist'), { recursive: true });
  const pkg = JSON.parse(readFileSync(join(repo, 'packages/core/package.json'), 'utf8')) as {
    exports: Record<string, unknown>;
    dependencies: Record<string, string>;
  };
  const plugin = pkg.exports['./plugin'] as { types: string };
  writeFileSync(
    join(core, 'package.json'),
    JSON.stringify({ name: '@rankwise/core', version: '0.1.0', type: 'module', exports: { './plugin': { types: plugin.types } } }),
  );
  const exports = Object.fromEntries(subpaths.map(([key, value]) => [key, { types: value.types }]));
  writeFileSync(join(models, 'package.json'), JSON.stringify({ name: '@rankwise/models', version: '0.1.0', type: 'module', exports }));
  for (const dep of Object.keys(pkg.dependencies).filter((d) => !d.startsWith('@rankwise/'))) link(dep, join(repo, 'packages/core'));
  link('@types/node', repo);
  for (const fixture of readdirSync(join(repo, 'test/fixtures/packages'))) {
    cpSync(join(repo, 'test/fixtures/packages', fixture), join(modules, fixture), { recursive: true });
  }
  writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'outside-author', private: true, type: 'module' }));
  writeFileSync(join(root, 'consumer.ts'), CONSUMER);
  for (const kind of KINDS) {
    for (const file of scaffoldFiles(kind, `rankwise-${kind}-scaffolded`, '0.1.0')) {
      mkdirSync(dirname(join(root, kind, file.path)), { recursive: true });
      writeFileSync(join(root, kind, file.path), file.text);
    }
  }
  // One tsc program (tsc is slow to start): the consumer and the scaffolded packages, under the scaffolds' own
  // compiler options (the same for all three), without emitting.
  const scaffolded = JSON.parse(readFileSync(join(root, 'stage', 'tsconfig.json'), 'utf8')) as { compilerOptions: Record<string, unknown> };
  const { outDir: _out, rootDir: _root, declaration: _declaration, ...options } = scaffolded.compilerOptions;
  const include = ['consumer.ts', ...KINDS.flatMap((k) => [`${k}/src`, `${k}/test`])];
  writeFileSync(join(root, 'tsconfig.json'), JSON.stringify({ compilerOptions: { ...options, noEmit: true }, include }));
  checked = await run(['-p', 'tsconfig.json', '--listFiles']);
}, 120_000);

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('@rankwise/core/plugin compiles under a default strict tsconfig without skipLibCheck', () => {
  test('its declaration files import no TensorFlow.js, DOM or WebGPU types', () => {
    const declarations = (dir: string) => (readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.endsWith('.d.ts')).map((f) => join(dir, f));
    const files = [...declarations(join(core, 'dist')), ...declarations(join(models, 'dist'))];
    expect(files).toContain(join(core, 'dist', 'plugin.d.ts'));
    const imports = files.flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/(?:from|import\()\s*'([^'.][^']*)'/g)].map((m) => m[1]));
    // besides TypeBox, only @rankwise/models' tfjs-free subpaths, whose own declarations are among `files`
    expect([...new Set(imports)].filter((i) => !i.startsWith('@rankwise/models/')).sort()).toEqual(['@sinclair/typebox']);
    expect(files.some((f) => f.includes(`${join('models', 'dist')}/index.d.ts`))).toBe(false);
    expect(files.some((f) => readFileSync(f, 'utf8').includes('/// <reference'))).toBe(false);
  });

  test.each(KINDS)('the package `rankwise new %s` scaffolds has a strict tsconfig without skipLibCheck', (kind) => {
    const tsconfig = JSON.parse(readFileSync(join(root, kind, 'tsconfig.json'), 'utf8')) as { compilerOptions: Record<string, unknown> };
    expect(tsconfig.compilerOptions.skipLibCheck).toBeUndefined();
    expect(tsconfig.compilerOptions.strict).toBe(true);
  });

  test('the fixture packages, a stage reading LoRA factors and ΔW, the scaffolded packages: tsc exit 0, no tfjs or WebGPU types loaded', () => {
    // Every `@ts-expect-error` in consumer.ts must be an error (a wrong option), else tsc reports it unused.
    const errors = checked.output.split('\n').filter((l) => !l.startsWith('/'));
    expect(errors.join('\n').trim()).toBe('');
    expect(checked.status).toBe(0);
    const loaded = checked.output.split('\n').filter((l) => l.startsWith('/'));
    for (const file of [
      '/rankwise-stage-adapter-norms/index.d.ts',
      '/rankwise-placement-largest/index.d.ts',
      '/rankwise-dataset-rings/index.d.ts',
      '/stage/src/index.ts',
      '/dataset/test/index.test.ts',
    ]) {
      expect(
        loaded.some((f) => f.endsWith(file)),
        file,
      ).toBe(true);
    }
    expect(loaded.filter((f) => /@tensorflow|@webgpu/.test(f))).toEqual([]);
  });
});
