import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { decodeSafetensors } from '@rankwise/formats';
import largest from '../fixtures/packages/rankwise-placement-largest/index.js';

/**
 * rankwise as a user gets it: every workspace package built and packed (`pnpm pack:all`), plus three plugin
 * packages from test/fixtures/packages (an unscoped placement plugin, a stage package and a dataset package), installed with npm
 * into a fresh project in a temp folder outside the workspace, then used only through `npx rankwise`.
 */
const repo = resolve('.');
const root = realpathSync(mkdtempSync(join(tmpdir(), 'rankwise-installed-')));
const tarballs = join(root, 'tarballs');
const project = join(root, 'project');
const fixtures = join(repo, 'test', 'fixtures', 'packages');
const timings: Record<string, number> = {};

/** The child's environment: no vitest/tsx loader flags, no colours; `extra` on top. */
function env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const { NODE_OPTIONS: _options, ...rest } = process.env;
  return { ...rest, FORCE_COLOR: '0', NO_COLOR: '1', npm_config_update_notifier: 'false', ...extra };
}

function sh(command: string, args: string[], cwd: string, extra: NodeJS.ProcessEnv = {}, timeoutMs = 240_000): SpawnSyncReturns<string> {
  return spawnSync(command, args, { cwd, encoding: 'utf8', env: env(extra), timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
}

function timed<T>(name: string, work: () => T): T {
  const started = Date.now();
  try {
    return work();
  } finally {
    timings[name] = (Date.now() - started) / 1000;
  }
}

/** Must succeed; the failure message shows the command's output. */
function ok(result: SpawnSyncReturns<string>, what: string): SpawnSyncReturns<string> {
  if (result.status !== 0)
    throw new Error(`${what} failed (exit ${result.status}${result.error ? `, ${result.error.message}` : ''}):\n${result.stdout}\n${result.stderr}`);
  return result;
}

const rankwise = (...args: string[]) => sh('npx', ['--no-install', 'rankwise', ...args], project);

const load = { stage: 'load', architecture: 'mlp', config: { sizes: [784, 32, 16, 10], activation: 'relu' } };
const inject = (options: Record<string, unknown>) => ({ stage: 'inject', r: 4, alpha: 8, placement: { plugin: 'rankwise-placement-largest', options } });
const norms = { stage: 'rankwise-stage-adapter-norms', file: 'norms.json' };
const train = {
  stage: 'train',
  data: { dataset: 'digits', split: 'train', limit: 256 },
  steps: 6,
  batchSize: 32,
  optimizer: { name: 'adam', lr: 0.01 },
  logEvery: 3,
};

function writePipeline(name: string, stages: object[]): string {
  const file = join(project, 'pipelines', `${name}.json`);
  writeFileSync(file, `${JSON.stringify({ name, seed: 3, backend: 'auto', stages }, null, 2)}\n`);
  return `pipelines/${name}.json`;
}

beforeAll(() => {
  mkdirSync(tarballs);
  mkdirSync(join(project, 'pipelines'), { recursive: true });
  // Build (a fresh clone has no dist/) and pack the workspace, checking each tarball's contents.
  timed('build + pack workspace', () => ok(sh(process.execPath, ['scripts/pack-all.mjs', tarballs], repo), 'pnpm pack:all'));
  timed('pack fixtures', () => {
    for (const fixture of readdirSync(fixtures))
      ok(sh('npm', ['pack', '--silent', '--pack-destination', tarballs], join(fixtures, fixture)), `npm pack ${fixture}`);
  });
  writeFileSync(join(project, 'package.json'), `${JSON.stringify({ name: 'my-lora-project', version: '1.0.0', private: true, type: 'module' }, null, 2)}\n`);
  const files = readdirSync(tarballs)
    .filter((f) => f.endsWith('.tgz'))
    .map((f) => join(tarballs, f));
  timed('npm install', () =>
    ok(
      sh('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', ...files], project, {}, 300_000),
      'npm install of the tarballs',
    ),
  );
}, 420_000);

afterAll(() => {
  console.log(`installed-packages e2e timings (s): ${JSON.stringify(timings)}`);
  // The project's node_modules is ~400 MB: removed in the background so the suite does not wait for the disk.
  spawn('rm', ['-rf', root], { detached: true, stdio: 'ignore' }).unref();
});

describe('rankwise installed from tarballs into a plain npm project', () => {
  test('the install: 12 packages, the rankwise bin, core built (dist + .d.ts, ./plugin), workspace: versions replaced', () => {
    // every workspace package (with models, lora and formats, split out of core) and the three fixtures
    const workspace = ['packages', 'plugins'].flatMap((g) => readdirSync(join(repo, g)).filter((d) => existsSync(join(repo, g, d, 'package.json'))));
    expect(readdirSync(tarballs).filter((f) => f.endsWith('.tgz'))).toHaveLength(workspace.length + readdirSync(fixtures).length);
    const modules = join(project, 'node_modules');
    const split = ['models', 'lora', 'formats'].filter((p) => workspace.includes(p));
    for (const name of [
      'core',
      'cli',
      'datasets',
      'grid',
      'report',
      'observe',
      'gguf',
      'backend-native',
      'backend-webgpu',
      'placement-pattern',
      'placement-attention',
      ...split,
    ]) {
      expect(existsSync(join(modules, '@rankwise', name, 'dist', 'index.js')), name).toBe(true);
      expect(existsSync(join(modules, '@rankwise', name, 'dist', 'index.d.ts')), name).toBe(true);
    }
    expect(existsSync(join(modules, '@rankwise', 'core', 'dist', 'plugin.js'))).toBe(true);
    expect(existsSync(join(modules, '@rankwise', 'core', 'schema', 'pipeline.schema.json'))).toBe(true);
    expect(existsSync(join(modules, '.bin', 'rankwise'))).toBe(true);
    const cli = JSON.parse(readFileSync(join(modules, '@rankwise', 'cli', 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(cli.dependencies['@rankwise/core']).toBe('0.1.0');
    expect(existsSync(join(modules, 'rankwise-placement-largest', 'index.js'))).toBe(true);
    expect(existsSync(join(modules, 'rankwise-stage-adapter-norms', 'index.js'))).toBe(true);
    expect(existsSync(join(modules, 'rankwise-stage-adapter-norms', 'index.d.ts'))).toBe(true);
    expect(existsSync(join(modules, 'rankwise-dataset-rings', 'index.js'))).toBe(true);
  });

  test('the native addon was built at install with the system compiler, or left a reason (never a failed install)', () => {
    const build = join(project, 'node_modules', '@rankwise', 'backend-native', 'build');
    const compiler = spawnSync(process.env.CC || 'cc', ['--version']);
    if (compiler.status === 0 || process.env.RANKWISE_REQUIRE_NATIVE === '1') {
      const why = existsSync(join(build, 'unavailable.json')) ? readFileSync(join(build, 'unavailable.json'), 'utf8') : 'no reason recorded';
      expect(existsSync(join(build, 'rankwise_native.node')), why).toBe(true);
    } else {
      expect(JSON.parse(readFileSync(join(build, 'unavailable.json'), 'utf8')).stage).toBe('compiler');
    }
  });

  test('npx rankwise list shows the plugin packages, found in the project', () => {
    const result = ok(rankwise('list', 'pipelines/*.json'), 'rankwise list');
    expect(result.stdout).toContain('  rankwise-placement-largest@1.0.0  Adapts the k largest Linear layers (by in × out features).\n      from node_modules');
    expect(result.stdout).toContain('  rankwise-stage-adapter-norms@1.0.0  A pipeline stage: writes the Frobenius norm');
    expect(result.stdout).toContain('  @rankwise/placement-pattern@0.1.0');
    expect(result.stdout).toContain('  rankwise-dataset-rings@1.0.0  A dataset package: points in the plane on two or more concentric rings');
  });

  test('npx rankwise validate / run with an outside dataset package: options checked by its schema (exit 2), then trained from', () => {
    const rings = { dataset: 'rankwise-dataset-rings', rings: 3, examples: 600, seed: 1 };
    const stages = (data: object) => [
      { stage: 'load', architecture: 'mlp', config: { sizes: [2, 32, 3], activation: 'relu' } },
      { stage: 'train', data, steps: 200, batchSize: 32, optimizer: { name: 'adam', lr: 0.02 }, logEvery: 100 },
      { stage: 'evaluate', data: { ...data, seed: 2 } },
      { stage: 'save', merged: true },
    ];
    const good = writePipeline('rings', stages(rings));
    const bad = writePipeline('bad-rings', stages({ ...rings, rings: 9 }));
    const invalid = rankwise('validate', bad);
    expect(invalid.status).toBe(2);
    expect(invalid.stderr.trim().split('\n')).toEqual([
      '✖ pipelines/bad-rings.json: /stages/1/data/rings: found 9, allowed: <= 8',
      '✖ pipelines/bad-rings.json: /stages/2/data/rings: found 9, allowed: <= 8',
    ]);
    const result = timed('rankwise run (dataset package)', () => ok(rankwise('run', good, '--out', 'runs'), 'rankwise run rings'));
    expect(result.stdout).toContain('train: data rings(3)/seed-1: 600 examples of 2, 3 classes (ring-1, ring-2, ring-3)');
    expect(result.stdout).toMatch(/accuracy per class: ring-1 [\d.]+% \(200\), ring-2 [\d.]+% \(200\), ring-3 [\d.]+% \(200\)/);
    const summary = JSON.parse(readFileSync(join(project, 'runs', 'rings', 'latest', 'summary.json'), 'utf8')) as {
      evaluations: Array<{ metrics: { accuracy: number } }>;
    };
    expect(summary.evaluations[0].metrics.accuracy).toBeGreaterThan(0.95); // rings 1 apart, noise 0.1: separable
    expect(JSON.parse(readFileSync(join(project, 'runs', 'rings', 'latest', 'merged', 'classes.json'), 'utf8'))).toEqual({
      classes: ['ring-1', 'ring-2', 'ring-3'],
    });
  });

  test('npx rankwise validate: the pipeline using both plugins passes; bad plugin options are pointer errors (exit 2)', () => {
    const good = writePipeline('largest', [load, { stage: 'freeze' }, inject({ k: 2 }), train, norms, { stage: 'save', adapter: true }]);
    const zero = writePipeline('bad-k-zero', [load, { stage: 'freeze' }, inject({ k: 0 }), train]);
    const tooMany = writePipeline('bad-k-too-many', [load, { stage: 'freeze' }, inject({ k: 9 }), train]);
    const unknown = writePipeline('bad-unknown-key', [load, { stage: 'freeze' }, inject({ k: 1, largest: true }), train]);
    const badFile = writePipeline('bad-norms-file', [load, { stage: 'freeze' }, inject({ k: 2 }), train, { ...norms, file: '../escape.json' }]);
    const beforeInject = writePipeline('bad-norms-first', [load, norms]);
    expect(ok(rankwise('validate', good), 'rankwise validate').stdout).toBe('✓ pipelines/largest.json (6 stages)\n');
    const bad = rankwise('validate', zero, tooMany, unknown, badFile, beforeInject);
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim().split('\n')).toEqual([
      '✖ pipelines/bad-k-zero.json: /stages/2/placement/options/k: found 0, allowed: >= 1',
      '✖ pipelines/bad-k-too-many.json: /stages/2/placement/options/k: k is 9 but the model has only 3 sites',
      '✖ pipelines/bad-unknown-key.json: /stages/2/placement/options/largest: unknown key "largest"; allowed: k, r',
      '✖ pipelines/bad-norms-file.json: /stages/4/file: found "../escape.json", allowed: a string matching /^[\\w.-]+\\.json$/',
      '✖ pipelines/bad-norms-first.json: /stages/1: nothing to rankwise-stage-adapter-norms: no adapter was injected or loaded before this stage',
    ]);
  });

  test("npx rankwise run: trains with both plugins, saves a PEFT adapter for the 2 largest sites, and the stage's norms match it", () => {
    const result = timed('rankwise run', () => ok(rankwise('run', 'pipelines/largest.json', '--out', 'runs'), 'rankwise run'));
    expect(result.stdout).toContain('inject: 2 sites (layers.0 r=4 α=8, layers.1 r=4 α=8)');
    expect(result.stdout).toContain('train[3] step 6/6');
    expect(result.stdout).toContain('adapter norms: layers.0 ');
    if (process.env.RANKWISE_REQUIRE_NATIVE === '1') expect(result.stdout).toMatch(/^backend native /m);
    const dir = join(project, 'runs', 'largest', 'latest');
    const config = JSON.parse(readFileSync(join(dir, 'adapter', 'adapter_config.json'), 'utf8')) as { target_modules: string[]; r: number; lora_alpha: number };
    expect(config).toMatchObject({ target_modules: ['layers.0', 'layers.1'], r: 4, lora_alpha: 8 });
    const weights = decodeSafetensors(readFileSync(join(dir, 'adapter', 'adapter_model.safetensors'))).tensors;
    expect([...weights.keys()].sort()).toEqual([
      'base_model.model.layers.0.lora_A.weight',
      'base_model.model.layers.0.lora_B.weight',
      'base_model.model.layers.1.lora_A.weight',
      'base_model.model.layers.1.lora_B.weight',
    ]);
    expect(weights.get('base_model.model.layers.0.lora_A.weight')!.shape).toEqual([4, 784]);
    expect(weights.get('base_model.model.layers.1.lora_B.weight')!.shape).toEqual([16, 4]);
    // The stage ran after training, before save: its norms are those of the saved factors (float32 vs float64).
    const written = JSON.parse(readFileSync(join(dir, 'norms.json'), 'utf8')) as Record<string, number>;
    expect(Object.keys(written).sort()).toEqual(['layers.0', 'layers.1']);
    for (const site of ['layers.0', 'layers.1']) {
      const a = weights.get(`base_model.model.${site}.lora_A.weight`)!;
      const b = weights.get(`base_model.model.${site}.lora_B.weight`)!;
      const expected = updateNorm(a, b, config.lora_alpha / config.r);
      expect(expected, site).toBeGreaterThan(1e-3); // trained: B started at zero
      expect(Math.abs(written[site] - expected) / expected, site).toBeLessThan(1e-5);
    }
  });

  test("npx rankwise schema writes a schema holding the plugins' and the dataset package's option schemas", () => {
    ok(rankwise('schema', '--out', 'pipeline.schema.json'), 'rankwise schema');
    const schema = JSON.parse(readFileSync(join(project, 'pipeline.schema.json'), 'utf8')) as unknown;
    const all = [...objects(schema)];
    const props = (o: Record<string, unknown>) => (o.properties ?? {}) as Record<string, unknown>;
    const k = (largest.optionsSchema.properties as Record<string, unknown>).k;
    expect(all.some((o) => JSON.stringify(props(o).k) === JSON.stringify(k))).toBe(true);
    const file = { type: 'string', pattern: '^[\\w.-]+\\.json$', default: 'adapter-norms.json', description: 'File name inside the run directory.' };
    expect(all.some((o) => JSON.stringify(props(o).file) === JSON.stringify(file))).toBe(true);
    const rings = { type: 'integer', minimum: 2, maximum: 8, default: 2, description: 'How many rings (classes).' };
    expect(all.some((o) => JSON.stringify(props(o).rings) === JSON.stringify(rings))).toBe(true);
  });

  test("TypeScript: the plugin packages' types compile with plain tsc --strict, no skipLibCheck, against the installed core", () => {
    // What an outside author's project does: strict defaults, @rankwise/core/plugin's .d.ts from the tarball.
    writeFileSync(
      join(project, 'authors.ts'),
      [
        "import { defineStage, loraModules, readLoraDelta, type Site } from '@rankwise/core/plugin';",
        "import largest from 'rankwise-placement-largest';",
        "import norms from 'rankwise-stage-adapter-norms';",
        "import rings from 'rankwise-dataset-rings';",
        "const sites: Site[] = [{ path: 'layers.0', inFeatures: 784, outFeatures: 32, layer: 0, role: 'hidden', adapted: false }];",
        'export const chosen = largest.select(sites, { k: 1 });',
        '// @ts-expect-error k is a number',
        "largest.select(sites, { k: 'one' });",
        'export const all = [norms.name, rings.name];',
        "export const deltas = defineStage<{ top: number }, number[]>({ name: 'rankwise-stage-deltas', description: 'ΔW norms', options: {}, requires: ['adapter'], provides: [],",
        '  async run(options, ctx) {',
        '    const out: number[] = [];',
        '    for (const [, m] of loraModules(ctx.model.require(ctx.name))) out.push((await readLoraDelta(m)).data.reduce((s, v) => s + v * v, 0));',
        '    return out.slice(0, options.top);',
        '  },',
        '});',
        '',
      ].join('\n'),
    );
    const compilerOptions = {
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      strict: true,
      noEmit: true,
      types: ['node'],
      typeRoots: [join(repo, 'node_modules', '@types')],
    };
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['authors.ts'] }));
    const tsc = createRequire(join(repo, 'package.json')).resolve('typescript/bin/tsc');
    const result = timed('tsc --strict (plugin types)', () => sh(process.execPath, [tsc, '-p', 'tsconfig.json', '--listFiles'], project));
    const lines = result.stdout.split('\n');
    expect(lines.filter((l) => l && !l.startsWith('/')).join('\n') + result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(lines.some((f) => f.endsWith('/node_modules/@rankwise/core/dist/plugin.d.ts'))).toBe(true);
    expect(lines.filter((f) => /@tensorflow|@webgpu/.test(f))).toEqual([]);
  });

  test('where the addon cannot be built (no compiler), npm rebuild still succeeds and rankwise falls back cleanly', () => {
    const rebuilt = timed('npm rebuild without a compiler', () =>
      sh('npm', ['rebuild', '@rankwise/backend-native', '--foreground-scripts'], project, { CC: join(root, 'no-such-cc') }),
    );
    expect(rebuilt.status, rebuilt.stderr).toBe(0);
    const build = join(project, 'node_modules', '@rankwise', 'backend-native', 'build');
    expect(existsSync(join(build, 'rankwise_native.node'))).toBe(false);
    expect(JSON.parse(readFileSync(join(build, 'unavailable.json'), 'utf8'))).toMatchObject({ stage: 'compiler' });
    // auto skips the native backend, saying why, and trains on the next one.
    const auto = ok(rankwise('run', 'pipelines/largest.json'), 'rankwise run (auto, no addon)');
    expect(auto.stdout).toMatch(/^backend (wasm|cpu) .*native: native addon not built: no working C compiler/m);
    expect(auto.stdout).toContain('✔ largest completed');
  });
});

/** Every object in a JSON tree. */
function* objects(value: unknown): Generator<Record<string, unknown>> {
  if (value === null || typeof value !== 'object') return;
  if (!Array.isArray(value)) yield value as Record<string, unknown>;
  for (const child of Object.values(value)) yield* objects(child);
}

/** ‖scaling·A·B‖_F from PEFT's lora_A [r, in] and lora_B [out, r], in float64. */
function updateNorm(a: { shape: number[]; data: Float32Array }, b: { shape: number[]; data: Float32Array }, scaling: number): number {
  const [r, inFeatures] = a.shape;
  const [outFeatures] = b.shape;
  let sum = 0;
  for (let o = 0; o < outFeatures; o++) {
    for (let i = 0; i < inFeatures; i++) {
      let d = 0;
      for (let k = 0; k < r; k++) d += b.data[o * r + k] * a.data[k * inFeatures + i]; // (B·A)[o, i]
      sum += (scaling * d) ** 2;
    }
  }
  return Math.sqrt(sum);
}
