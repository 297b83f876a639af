import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import sharp from 'sharp';
import { parquetWriteFile } from 'hyparquet-writer';
import { beforeAll, describe, expect, test } from 'vitest';
import { createRankwise, PipelineValidationError, type Pipeline, type RunSummary } from '@rankwise/core';
import { SilentProgress } from '@rankwise/core/runs';
import { createDatasetSource } from '@rankwise/datasets';
import { useTestBackend } from '../helpers/backend.js';

/** The issues of a validation as `file: pointer: message` lines. */
async function issuesOf(promise: Promise<unknown>): Promise<string[]> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof PipelineValidationError) return error.issues.map((i) => `${i.file}: ${i.pointer}: ${i.message}`);
    throw error;
  }
  throw new Error('expected a validation error');
}

/** Two Gaussian blobs in 3-D, labelled by blob ("left" / "right"), seeded; well separated (an MLP gets them all). */
function blobs(n: number): Array<{ a: number; b: number; c: number; label: string }> {
  let s = 12345;
  const next = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
  return Array.from({ length: n }, (_, i) => {
    const side = i % 2 === 0 ? -1 : 1;
    return { a: side * 2 + next() - 0.5, b: next() - 0.5, c: side + next() - 0.5, label: side < 0 ? 'left' : 'right' };
  });
}

const mlp = (sizes: number[]) => ({ stage: 'load', architecture: 'mlp', config: { sizes, activation: 'relu' } });
/** A Rankwise for the project folder, taking pipelines as plain objects. */
const rankwiseIn = (dir: string) => {
  const rw = createRankwise({ cwd: dir, progress: new SilentProgress(), datasets: createDatasetSource() });
  return {
    validate: (pipeline: object) => rw.validate(pipeline as Pipeline),
    run: (pipeline: object, options: { out: string }) => rw.run(pipeline as Pipeline, options),
    pipelineSchema: () => rw.pipelineSchema(),
  };
};

let dir: string;

beforeAll(async () => {
  await useTestBackend();
  dir = await mkdtemp(join(tmpdir(), 'rankwise-datasets-'));
  const rows = blobs(200);
  await writeFile(join(dir, 'blobs.csv'), `a,b,c,label\n${rows.map((r) => `${r.a},${r.b},${r.c},${r.label}`).join('\n')}\n`);
  await writeFile(join(dir, 'blobs.jsonl.gz'), gzipSync(rows.map((r) => JSON.stringify(r)).join('\n')));
  parquetWriteFile({
    filename: join(dir, 'blobs.parquet'),
    columnData: [
      { name: 'a', data: rows.map((r) => r.a), type: 'DOUBLE' },
      { name: 'b', data: rows.map((r) => r.b), type: 'DOUBLE' },
      { name: 'c', data: rows.map((r) => r.c), type: 'DOUBLE' },
      { name: 'label', data: rows.map((r) => r.label), type: 'STRING' },
    ],
  });
  // a dataset package installed in the project (the fixture the installed-packages e2e test also installs)
  const pkg = join(dir, 'node_modules', 'rankwise-dataset-rings');
  mkdirSync(pkg, { recursive: true });
  cpSync(resolve('test/fixtures/packages/rankwise-dataset-rings'), pkg, { recursive: true });
  // the package imports defineDataset from @rankwise/core/plugin: an identity function (the installed-packages e2e
  // test runs it against the real, built core)
  const core = join(dir, 'node_modules', '@rankwise', 'core');
  mkdirSync(core, { recursive: true });
  writeFileSync(
    join(core, 'package.json'),
    JSON.stringify({ name: '@rankwise/core', version: '0.0.0', type: 'module', exports: { './plugin': './plugin.js' } }),
  );
  writeFileSync(join(core, 'plugin.js'), 'export const defineDataset = (dataset) => dataset;\n');
});

describe('classification from files', () => {
  test('the same rows as CSV, gzipped JSONL and Parquet train the same MLP to the same numbers; class names reach evaluation and the saved model', async () => {
    const results: RunSummary[] = [];
    for (const path of ['blobs.csv', 'blobs.jsonl.gz', 'blobs.parquet']) {
      const data = (split: string) => ({ dataset: 'table', path, split, validationFraction: 0.25, splitSeed: 1 });
      const pipeline = {
        name: `blobs-${path.replace(/\W/g, '-')}`,
        seed: 4,
        stages: [
          mlp([3, 16, 2]),
          { stage: 'train', data: data('train'), steps: 60, batchSize: 16, optimizer: { name: 'adam', lr: 0.02 } },
          { stage: 'evaluate', data: data('validation') },
          { stage: 'save', merged: true },
        ],
      };
      const { summary } = await rankwiseIn(dir).run(pipeline, { out: join(dir, 'runs') });
      results.push(summary);
    }
    const [csv, jsonl, parquet] = results;
    const evaluation = csv.evaluations[0];
    expect(evaluation.metrics.accuracy).toBe(1); // the blobs are 4 units apart on a, noise 1 wide
    expect(evaluation.perClass?.map((c) => c.name)).toEqual(['left', 'right']);
    expect(evaluation.perClass!.every((c) => c.accuracy === 1 && c.examples > 10)).toBe(true);
    for (const other of [jsonl, parquet]) {
      expect(other.evaluations[0].metrics).toEqual(evaluation.metrics);
      expect(other.training[0].finalLoss).toBe(csv.training[0].finalLoss);
    }
    // the split is seeded per row: 200 rows, about a quarter held out, the same rows in every format
    const data = csv.training[0].data!;
    expect(data).toMatchObject({ classes: ['left', 'right'], inputShape: [3] });
    expect(data.examples + evaluation.perClass!.reduce((a, c) => a + c.examples, 0)).toBe(200);
    expect(Math.abs(data.examples - 150)).toBeLessThan(20);
    const classes = JSON.parse(await readFile(join(dir, 'runs', csv.pipeline, 'latest', 'merged', 'classes.json'), 'utf8')) as unknown;
    expect(classes).toEqual({ classes: ['left', 'right'] });
  }, 60_000);

  test('an image folder feeds a model whose input is its shape; a wrong shape or class count is caught at validation', async () => {
    const images = join(dir, 'shapes');
    for (const [name, value] of [
      ['dark', 30],
      ['light', 220],
    ] as const) {
      await mkdir(join(images, name), { recursive: true });
      for (let k = 0; k < 6; k++)
        await sharp(Buffer.alloc(64, value + k), { raw: { width: 8, height: 8, channels: 1 } })
          .png()
          .toFile(join(images, name, `${k}.png`));
    }
    const rw = rankwiseIn(dir);
    const pipeline = (sizes: number[], data: object) => ({
      name: 'shapes',
      stages: [mlp(sizes), { stage: 'evaluate', data: { dataset: 'image-folder', path: 'shapes', ...data } }],
    });
    const { summary } = await rw.run(pipeline([16, 2], { shape: [4, 4, 1] }), { out: join(dir, 'runs') });
    expect(summary.evaluations[0].perClass?.map((c) => [c.name, c.examples])).toEqual([
      ['dark', 6],
      ['light', 6],
    ]);
    expect(await issuesOf(rw.validate(pipeline([64, 2], { shape: [4, 4, 1] })))).toEqual([
      "<shapes>: /stages/1/data: the data's examples are 4×4×1 = 16 values; the model's input is 64",
    ]);
    expect(await issuesOf(rw.validate(pipeline([16, 3, 1], { shape: [4, 4, 1] })))).toEqual([
      '<shapes>: /stages/1/data: the data has 2 classes (dark, light); the model has 1 outputs',
    ]);
    // an MLP has no image shape: the folder needs "shape"
    expect(await issuesOf(rw.validate(pipeline([16, 2], {})))).toEqual([
      '<shapes>: /stages/1/data/shape: the image shape is unknown: the model has no [height, width, channels] input; set "shape"',
    ]);
  }, 30_000);
});

describe('bad data: every problem is one line with the file, line or row, and pointer (exit 2 in the CLI); nothing loads', () => {
  test('a line that is not JSON, a missing field, a label outside the classes, a non-number feature, an image that does not decode', async () => {
    await writeFile(
      join(dir, 'bad.jsonl'),
      [
        '{"a":1,"b":2,"c":3,"label":"left"}',
        '{"a":1,"b":2,"c":3',
        '{"a":1,"b":2,"c":3}',
        '{"a":1,"b":2,"c":3,"label":"up"}',
        '{"a":"x","b":2,"c":3,"label":"left"}',
        '{"a":1,"b":2,"c":3,"label":"right"}',
      ].join('\n'),
    );
    await mkdir(join(dir, 'broken-images', 'cat'), { recursive: true });
    await mkdir(join(dir, 'broken-images', 'dog'), { recursive: true });
    await sharp(Buffer.alloc(16), { raw: { width: 4, height: 4, channels: 1 } })
      .png()
      .toFile(join(dir, 'broken-images', 'cat', 'ok.png'));
    await writeFile(join(dir, 'broken-images', 'dog', 'bad.png'), 'not a png');
    const rw = rankwiseIn(dir);
    const table = { dataset: 'table', path: 'bad.jsonl', classes: ['left', 'right'] };
    const problems = await issuesOf(
      rw.validate({
        name: 'bad',
        stages: [
          mlp([3, 8, 2]),
          { stage: 'evaluate', data: table },
          { stage: 'evaluate', data: { dataset: 'image-folder', path: 'broken-images', shape: [4, 4, 1] } },
        ],
      }),
    );
    expect(problems).toEqual([
      expect.stringMatching(/^bad\.jsonl:2: : not valid JSON \(/),
      'bad.jsonl:3: /label: missing field "label" (the label column; set "label" to name another)',
      'bad.jsonl:4: /label: label "up" is outside the classes ["left","right"]',
      'bad.jsonl:5: /a: found "x", allowed: a finite number (feature "a")',
      expect.stringMatching(/^broken-images\/dog\/bad\.png: : the image does not decode \(/),
    ]);
  });

  test('a file that is missing, and options of the wrong type, point into the pipeline', async () => {
    const rw = rankwiseIn(dir);
    expect(await issuesOf(rw.validate({ name: 'bad', stages: [mlp([3, 8, 2]), { stage: 'evaluate', data: { dataset: 'table', path: 'nope.csv' } }] }))).toEqual(
      ['nope.csv: : file not found'],
    );
    expect(
      await issuesOf(rw.validate({ name: 'bad', stages: [mlp([3, 8, 2]), { stage: 'evaluate', data: { dataset: 'table', path: 'blobs.csv', label: 3 } }] })),
    ).toEqual(['<bad>: /stages/1/data/label: found 3, allowed: a string']);
  });
});

describe('dataset packages', () => {
  test('a package installed in the project: used by name from JSON, its options validated by its schema, in `rankwise schema`, trained from', async () => {
    const rw = rankwiseIn(dir);
    const data = { dataset: 'rankwise-dataset-rings', rings: 2, examples: 400, seed: 1 };
    const pipeline = (d: object) => ({
      name: 'rings',
      seed: 2,
      stages: [
        mlp([2, 32, 2]),
        { stage: 'train', data: d, steps: 150, batchSize: 32, optimizer: { name: 'adam', lr: 0.02 } },
        { stage: 'evaluate', data: { ...d, seed: 9 } },
      ],
    });
    expect(await issuesOf(rw.validate(pipeline({ ...data, rings: 1 })))).toEqual([
      '<rings>: /stages/1/data/rings: found 1, allowed: >= 2',
      '<rings>: /stages/2/data/rings: found 1, allowed: >= 2',
    ]);
    expect(await issuesOf(rw.validate(pipeline({ ...data, rings: 3 })))).toEqual([
      '<rings>: /stages/1/data: the data has 3 classes (ring-1, ring-2, ring-3); the model has 2 outputs',
      '<rings>: /stages/2/data: the data has 3 classes (ring-1, ring-2, ring-3); the model has 2 outputs',
    ]);
    expect(await issuesOf(rw.validate(pipeline({ dataset: 'rankwise-dataset-nope' })))).toEqual([
      expect.stringMatching(
        /^<rings>: \/stages\/1\/data\/dataset: plugin "rankwise-dataset-nope" is not installed: .*installed plugins: .*rankwise-dataset-rings\)$/,
      ),
      expect.stringMatching(/^<rings>: \/stages\/2\/data\/dataset: plugin "rankwise-dataset-nope" is not installed/),
    ]);
    const { summary } = await rw.run(pipeline(data), { out: join(dir, 'runs') });
    // two rings of radius 1 and 2 with noise 0.1: separable; a held-out draw (another seed) is classified
    expect(summary.evaluations[0].metrics.accuracy).toBeGreaterThan(0.95);
    expect(summary.evaluations[0].perClass?.map((c) => c.name)).toEqual(['ring-1', 'ring-2']);
    const schema = JSON.stringify(await rw.pipelineSchema());
    expect(schema).toContain('"const":"rankwise-dataset-rings"');
    expect(schema).toContain('"description":"How many rings (classes)."');
  }, 60_000);
});
