/**
 * What `rankwise new plugin|stage <name>` writes: a TypeScript package that builds with tsc, tests itself with
 * Node's test runner (no other test framework to install), and installs into a project like any npm package.
 */

export type PackageKind = 'plugin' | 'stage' | 'dataset';

export interface ScaffoldFile {
  path: string;
  text: string;
}

/** Versions the generated package develops against (the ones this repository uses). */
const TYPESCRIPT = '5.9.3';
const TYPES_NODE = '20.19.43';

function packageJson(name: string, kind: PackageKind, coreVersion: string): string {
  const description = {
    plugin: 'A rankwise placement plugin: which W matrices get LoRA factors.',
    stage: 'A rankwise pipeline stage.',
    dataset: 'A rankwise dataset.',
  }[kind];
  return `${JSON.stringify(
    {
      name,
      version: '0.1.0',
      description,
      keywords: ['rankwise-plugin', 'lora', kind === 'plugin' ? 'placement' : kind],
      type: 'module',
      license: 'MIT',
      exports: { '.': { types: './dist/src/index.d.ts', default: './dist/src/index.js' } },
      files: ['dist/src', 'README.md'],
      scripts: { build: 'tsc -p tsconfig.json', test: 'tsc -p tsconfig.json && node --test dist/test/', prepare: 'tsc -p tsconfig.json' },
      peerDependencies: { '@rankwise/core': `>=${coreVersion}` },
      devDependencies: { '@rankwise/core': coreVersion, '@types/node': TYPES_NODE, typescript: TYPESCRIPT },
    },
    null,
    2,
  )}\n`;
}

const TSCONFIG = `${JSON.stringify(
  {
    compilerOptions: {
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      strict: true,
      declaration: true,
      outDir: 'dist',
      rootDir: '.',
      types: ['node'],
    },
    include: ['src', 'test'],
  },
  null,
  2,
)}\n`;

/** `rankwise-placement-top-k` → `topK` style identifiers for the generated code. */
function identifier(name: string): string {
  const base = name.replace(/^@[^/]+\//, '').replace(/^rankwise-(placement|stage|plugin)-/, '');
  const camel = base.replace(/[^a-zA-Z0-9]+(.)?/g, (_, c: string | undefined) => (c ? c.toUpperCase() : ''));
  return /^[a-zA-Z_]/.test(camel) ? camel : `p${camel}`;
}

function pluginSource(name: string): string {
  return `import { definePlacementPlugin, PlacementError, type Site } from '@rankwise/core/plugin';

export interface Options {
  /** How many sites to adapt, largest first. */
  count: number;
  /** Rank for every chosen site (default: the inject stage's \`r\`). */
  r?: number;
}

/** Adapts the \`count\` largest weight matrices (by in × out), leaving the output head alone. */
export default definePlacementPlugin<Options>({
  name: ${JSON.stringify(name)},
  description: 'Adapts the largest weight matrices (by in × out features), not the head.',
  optionsSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['count'],
    properties: {
      count: { type: 'integer', minimum: 1, description: 'How many sites to adapt, largest first.' },
      r: { type: 'integer', minimum: 1, description: "Rank for every chosen site (default: the inject stage's r)." },
    },
  },
  select(sites: Site[], options: Options) {
    const candidates = sites.filter((s) => s.role !== 'head');
    if (options.count > candidates.length) {
      throw new PlacementError(\`count \${options.count} is more than the \${candidates.length} sites that are not the head\`, '/count');
    }
    return [...candidates]
      .sort((a, b) => b.inFeatures * b.outFeatures - a.inFeatures * a.outFeatures)
      .slice(0, options.count)
      .map((s) => ({ path: s.path, ...(options.r === undefined ? {} : { r: options.r }) }));
  },
});
`;
}

function pluginTest(name: string): string {
  return `import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Site } from '@rankwise/core/plugin';
import plugin from '../src/index.js';

const site = (path: string, inFeatures: number, outFeatures: number, role = 'hidden'): Site => ({ path, inFeatures, outFeatures, layer: null, role, adapted: false });
const sites = [site('layers.0', 784, 256), site('layers.1', 256, 256), site('layers.2', 256, 10, 'head')];

test('${name}: the largest matrices first, never the head', () => {
  assert.deepEqual(plugin.select(sites, { count: 2 }), [{ path: 'layers.0' }, { path: 'layers.1' }]);
  assert.deepEqual(plugin.select(sites, { count: 1, r: 4 }), [{ path: 'layers.0', r: 4 }]);
});

test('${name}: more sites than there are is an error at /count', () => {
  assert.throws(() => plugin.select(sites, { count: 3 }), (error: Error & { pointer?: string }) => error.name === 'PlacementError' && error.pointer === '/count');
});
`;
}

function stageSource(name: string): string {
  const id = identifier(name);
  return `import { defineStage } from '@rankwise/core/plugin';

export interface Options {
  /** Multiplies the count. */
  factor?: number;
}

export interface Result {
  /** Parameter tensors of the model. */
  tensors: number;
  /** Of them, trainable. */
  trainable: number;
  scaled: number;
}

// Pipelines built in code and session.stage() check this stage's options and type its result.
declare module '@rankwise/core/plugin' {
  interface StagePackages {
    ${JSON.stringify(name)}: { options: Options; result: Result };
  }
}

/** Counts the model's parameter tensors (and the trainable ones), times a factor, and reports it. */
export const ${id} = defineStage<Options, Result>({
  name: ${JSON.stringify(name)},
  description: "Counts the model's parameter tensors and the trainable ones.",
  options: {
    type: 'object',
    additionalProperties: false,
    properties: { factor: { type: 'number', exclusiveMinimum: 0, default: 1, description: 'Multiplies the count.' } },
  },
  requires: ['model'],
  provides: [],
  check(options, ctx) {
    if (ctx.model === null) ctx.issue('', 'needs a model before it');
  },
  run(options, ctx) {
    const parameters = ctx.model.require(ctx.name).parameters();
    const result = { tensors: parameters.length, trainable: parameters.filter((p) => p.trainable).length, scaled: parameters.length * (options.factor ?? 1) };
    ctx.progress.info(\`\${ctx.name}: \${result.tensors} parameter tensors, \${result.trainable} trainable\`);
    return result;
  },
});

export default ${id};
`;
}

function stageTest(name: string): string {
  return `import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { StageContext } from '@rankwise/core/plugin';
import stage from '../src/index.js';

/** Just the part of a stage context this stage uses. */
function context(trainable: boolean[]): { ctx: StageContext; lines: string[] } {
  const lines: string[] = [];
  const model = { parameters: () => trainable.map((t) => ({ trainable: t })) };
  const ctx = { name: ${JSON.stringify(name)}, model: { require: () => model }, progress: { info: (line: string) => lines.push(line) } };
  return { ctx: ctx as unknown as StageContext, lines };
}

test('${name}: counts parameter tensors and the trainable ones', async () => {
  const { ctx, lines } = context([true, false, true]);
  assert.deepEqual(await stage.run({ factor: 2 }, ctx), { tensors: 3, trainable: 2, scaled: 6 });
  assert.deepEqual(lines, ['${name}: 3 parameter tensors, 2 trainable']);
});

test('${name}: its options schema refuses a non-positive factor', () => {
  const factor = (stage.options.properties as Record<string, { exclusiveMinimum?: number }>).factor;
  assert.equal(factor.exclusiveMinimum, 0);
});
`;
}

function datasetSource(name: string): string {
  const id = identifier(name);
  return `import { defineDataset } from '@rankwise/core/plugin';

export interface Options {
  dataset: string;
  /** How many examples. */
  examples?: number;
  /** Seed of the examples. */
  seed?: number;
}

const CLASSES = ['below', 'above'];

/** mulberry32: a small seeded generator of numbers in [0, 1). */
function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Points (x, y) in the unit square, labelled by whether they lie above the diagonal; seeded. */
export const ${id} = defineDataset<Options>({
  name: ${JSON.stringify(name)},
  description: 'Points in the unit square, labelled below / above the diagonal; seeded.',
  options: {
    type: 'object',
    properties: {
      examples: { type: 'integer', minimum: 10, default: 400, description: 'How many examples.' },
      seed: { type: 'integer', minimum: 0, default: 0, description: 'Seed of the examples.' },
    },
  },
  check: () => ({ kind: 'classification', inputShape: [2], classNames: CLASSES }),
  async open(options) {
    const n = options.examples ?? 400;
    const random = generator(options.seed ?? 0);
    const x = new Float32Array(n * 2);
    const y = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      x[2 * i] = random();
      x[2 * i + 1] = random();
      y[i] = x[2 * i + 1] > x[2 * i] ? 1 : 0;
    }
    return { kind: 'classification', name: \`diagonal/seed-\${options.seed ?? 0}\`, inputShape: [2], classNames: CLASSES, n, x, y };
  },
});

export default ${id};
`;
}

function datasetTest(name: string): string {
  return `import assert from 'node:assert/strict';
import { test } from 'node:test';
import dataset from '../src/index.js';

test('${name}: seeded classification data, labelled by the diagonal', async () => {
  const options = { dataset: ${JSON.stringify(name)}, examples: 50, seed: 3 };
  const opened = await dataset.open(options, {} as never);
  assert.equal(opened.kind, 'classification');
  if (opened.kind !== 'classification') return;
  assert.deepEqual(opened.inputShape, [2]);
  assert.equal(opened.n, 50);
  for (let i = 0; i < opened.n; i++) assert.equal(opened.y[i], opened.x[2 * i + 1] > opened.x[2 * i] ? 1 : 0);
  const again = await dataset.open(options, {} as never);
  assert.deepEqual(again.kind === 'classification' && [...again.x], [...opened.x]);
});
`;
}

function readme(name: string, kind: PackageKind): string {
  const use = {
    plugin: `{ "stage": "inject", "r": 8, "placement": { "plugin": ${JSON.stringify(name)}, "options": { "count": 2 } } }`,
    stage: `{ "stage": ${JSON.stringify(name)}, "factor": 2 }`,
    dataset: `{ "stage": "train", "data": { "dataset": ${JSON.stringify(name)}, "examples": 1000 }, "steps": 200 }`,
  }[kind];
  const what = { plugin: 'placement plugin', stage: 'pipeline stage', dataset: 'dataset' }[kind];
  return `# ${name}

A rankwise ${what}. Made with \`rankwise new ${kind} ${name}\`.

## Develop

\`\`\`sh
npm install        # @rankwise/core, TypeScript and Node's types, for development
npm test           # tsc, then Node's test runner on dist/test/
\`\`\`

## Use

\`\`\`sh
npm pack                                        # ${name.replace(/^@/, '').replace('/', '-')}-0.1.0.tgz
cd ../my-project && npm install ../${name.replace(/^@[^/]+\//, '')}/*.tgz
npx rankwise list                               # shows it (keyword rankwise-plugin)
\`\`\`

In a pipeline:

\`\`\`json
${use}
\`\`\`

\`rankwise schema\` in the project adds its options to the pipeline schema, so an editor completes them.
`;
}

/** The files of a new package. `coreVersion` is the @rankwise/core version it develops against. */
export function scaffoldFiles(kind: PackageKind, name: string, coreVersion: string): ScaffoldFile[] {
  return [
    { path: 'package.json', text: packageJson(name, kind, coreVersion) },
    { path: 'tsconfig.json', text: TSCONFIG },
    { path: 'src/index.ts', text: { plugin: pluginSource, stage: stageSource, dataset: datasetSource }[kind](name) },
    { path: 'test/index.test.ts', text: { plugin: pluginTest, stage: stageTest, dataset: datasetTest }[kind](name) },
    { path: 'README.md', text: readme(name, kind) },
    { path: '.gitignore', text: 'node_modules/\ndist/\n*.tgz\n' },
  ];
}
