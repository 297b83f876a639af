import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, test } from 'vitest';
import {
  createRankwise,
  defineStage,
  formatIssue,
  listSites,
  Mlp,
  PipelineValidationError,
  resolveBackend,
  Rng,
  RunFailed,
  Services,
  type ClassificationArrays,
  type DatasetSource,
  type ExternalStageSpec,
  type MetricsSink,
  type Pipeline,
  type ProgressReporter,
  type StageSpec,
} from '@rankwise/core';
import { SilentProgress } from '@rankwise/core/runs';
import { createDatasetSource } from '@rankwise/datasets';
import pattern from '@rankwise/placement-pattern';
import { useTestBackend } from '../helpers/backend.js';
import { pluginProject } from '../helpers/plugin-project.js';

beforeAll(async () => {
  await useTestBackend();
});

let runs = 0;
/** A stage written in code: needs adapters, provides a capability of its own, returns what it counted. */
const countAdapted = defineStage<{ factor: number }, { adapted: number; scaled: number }>({
  name: 'rankwise-stage-count',
  description: 'counts the adapted sites, times a factor',
  options: {
    type: 'object',
    additionalProperties: false,
    required: ['factor'],
    properties: { factor: { type: 'number', exclusiveMinimum: 0, description: 'The factor.' } },
  },
  requires: ['model', 'adapter'],
  provides: ['counted'],
  check(options, ctx) {
    if (options.factor > 100) ctx.issue('/factor', `found ${options.factor}, allowed: at most 100`);
  },
  run(options, ctx) {
    runs++;
    const adapted = listSites(ctx.model.require('rankwise-stage-count')).filter((s) => s.adapted).length;
    ctx.progress.info(`count: ${adapted}`);
    return { adapted, scaled: adapted * options.factor };
  },
});
const needsCount = defineStage<Record<never, never>, null>({
  name: '@acme/needs-count',
  description: 'needs what rankwise-stage-count provides',
  options: { type: 'object', additionalProperties: false, properties: {} },
  requires: ['counted'],
  provides: [],
  run: () => null,
});

const testDigits = { dataset: 'digits', split: 'test', limit: 100 } as const;
const stages = (custom: ExternalStageSpec, at = 3): Pipeline => {
  const list: Array<StageSpec | ExternalStageSpec> = [
    { stage: 'load', architecture: 'mlp', config: { sizes: [784, 16, 16, 10] } },
    { stage: 'freeze' },
    { stage: 'inject', r: 2, placement: { plugin: 'pattern', options: { target: 'all-linear' } } },
    { stage: 'evaluate', data: testDigits },
  ];
  list.splice(at, 0, custom);
  return { name: 'custom-stage', seed: 3, stages: list as StageSpec[] };
};
const rankwise = (progress: ProgressReporter = new SilentProgress()) =>
  createRankwise({ progress, datasets: createDatasetSource(), plugins: [pattern], stages: [countAdapted, needsCount] });

async function issuesOf(promise: Promise<unknown>): Promise<string[]> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof PipelineValidationError) return error.issues.map((i) => `${i.pointer}: ${i.message}`);
    throw error;
  }
  throw new Error('expected a validation error');
}

describe('custom stages', () => {
  test('a stage given in code runs in a pipeline object and in a session, and returns what it produced', async () => {
    const out = await mkdtemp(join(tmpdir(), 'rankwise-custom-'));
    const { summary } = await rankwise().run(stages({ stage: 'rankwise-stage-count', factor: 3 }), { out });
    expect(summary.status).toBe('completed');
    expect(summary.evaluations).toHaveLength(1);
    expect(summary.evaluations[0]).toMatchObject({ index: 4, stage: 'evaluate' });

    const session = rankwise().session({ model: new Mlp({ sizes: [784, 16, 16, 10] }, 3), seed: 3 });
    await session.stage({ stage: 'freeze' });
    const injected = await session.stage({ stage: 'inject', r: 2, alpha: 4, placement: { plugin: 'pattern', options: { target: 'all-linear' } } });
    expect(injected.sites.map((s) => [s.path, s.r, s.alpha])).toEqual([
      ['layers.0', 2, 4],
      ['layers.1', 2, 4],
    ]);
    expect(await session.stage({ stage: 'rankwise-stage-count', factor: 3 })).toEqual({ adapted: 2, scaled: 6 });
    const evaluation = await session.stage({ stage: 'evaluate', label: 'after', data: testDigits });
    expect(evaluation).toEqual({
      index: 3,
      label: 'after',
      stage: 'evaluate',
      data: expect.any(String),
      metrics: { loss: expect.any(Number), accuracy: expect.any(Number) },
    });
    expect(session.evaluations).toEqual([evaluation]);
    session.dispose();
  });

  test('its options are validated with JSON pointers, and requires / provides drive the static checks; nothing runs', async () => {
    const before = runs;
    const rw = rankwise();
    expect(await issuesOf(rw.validate(stages({ stage: 'rankwise-stage-count', factor: -1 })))).toEqual(['/stages/3/factor: found -1, allowed: > 0']);
    expect(await issuesOf(rw.validate(stages({ stage: 'rankwise-stage-count', facter: 2 })))).toEqual([
      '/stages/3: missing required key "factor"',
      '/stages/3/facter: unknown key "facter"; allowed: stage, label, factor',
    ]);
    expect(await issuesOf(rw.validate(stages({ stage: 'rankwise-stage-count', factor: 500 })))).toEqual(['/stages/3/factor: found 500, allowed: at most 100']);
    // before inject: no adapter yet
    expect(await issuesOf(rw.validate(stages({ stage: 'rankwise-stage-count', factor: 1 }, 2)))).toEqual([
      '/stages/2: nothing to rankwise-stage-count: no adapter was injected or loaded before this stage',
    ]);
    // a capability of its own: @acme/needs-count needs "counted", which only rankwise-stage-count provides
    expect(await issuesOf(rw.validate(stages({ stage: '@acme/needs-count' })))).toEqual([
      '/stages/3/stage: "@acme/needs-count" needs "counted", which no stage before it provides',
    ]);
    const ok = stages({ stage: 'rankwise-stage-count', factor: 1 });
    ok.stages.push({ stage: '@acme/needs-count' } as unknown as StageSpec);
    await expect(rw.validate(ok)).resolves.toBeTruthy();
    // an unknown name that is a valid package name: not installed
    expect(await issuesOf(rw.validate(stages({ stage: 'rankwise-stage-nope' })))).toEqual([
      expect.stringContaining(
        '/stages/3/stage: found "rankwise-stage-nope", allowed: "load", "freeze", "unfreeze", "inject", "train", "evaluate", "merge", "save", "generate" or an installed stage package',
      ),
    ]);
    expect(runs).toBe(before);
  });

  test('a stage package and a placement plugin installed in a project: used from JSON, validated, run', async () => {
    const { dir, loader } = await pluginProject();
    const pipeline = (factor: unknown, count: number) => ({
      name: 'project-run',
      seed: 5,
      stages: [
        { stage: 'load', architecture: 'mlp', config: { sizes: [784, 16, 16, 10] } },
        { stage: 'freeze' },
        { stage: 'inject', r: 2, placement: { plugin: '@acme/placement-largest', options: { count } } },
        { stage: 'rankwise-stage-scale-lr', factor },
        { stage: 'train', data: { dataset: 'digits', split: 'train', limit: 200 }, steps: 3, optimizer: { name: 'adam', lr: 0.01 } },
        { stage: 'save', adapter: true },
      ],
    });
    await writeFile(join(dir, 'good.json'), JSON.stringify(pipeline(2, 1)));
    await writeFile(join(dir, 'bad-stage.json'), JSON.stringify(pipeline('two', 1)));
    await writeFile(join(dir, 'bad-placement.json'), JSON.stringify(pipeline(2, 9)));
    const rw = createRankwise({ cwd: dir, loader, progress: new SilentProgress(), datasets: createDatasetSource() });
    expect(await issuesOf(rw.validateFile('bad-stage.json'))).toEqual(['/stages/3/factor: found "two", allowed: a number']);
    // the plugin's own PlacementError class (not core's): recognised by its shape
    expect(await issuesOf(rw.validateFile('bad-placement.json'))).toEqual(['/stages/2/placement/options/count: count 9 is more than the 3 sites']);
    const { summary } = await rw.run('good.json', { out: join(dir, 'runs') });
    expect(summary.artifacts.adapter).toBe('adapter');
    expect(summary.trainableParams).toBe(2 * (784 + 16)); // the largest site, layers.0 [784, 16], at r = 2
  });
});

/** Digits-shaped random data: a stand-in dataset source. */
const fakeSource = (): DatasetSource & { calls: number } => {
  const source = {
    calls: 0,
    async classification(): Promise<ClassificationArrays> {
      source.calls++;
      const rng = new Rng(1);
      const n = 50;
      const x = Float32Array.from({ length: n * 784 }, () => rng.next());
      const y = Int32Array.from({ length: n }, (_, i) => i % 10);
      return { name: 'fake-digits', x, y, n, features: 784, classes: 10 };
    },
    corpusText: () => Promise.reject(new Error('no text here')),
    text: () => Promise.reject(new Error('no text here')),
    buildVocabulary: () => Promise.reject(new Error('no text here')),
    vocabularyFromJSON: () => Promise.reject(new Error('no text here')),
  };
  return source;
};

describe('stage services', () => {
  test('the progress reporter, the dataset source and a per-run service are replaced from code', async () => {
    const lines: string[] = [];
    const source = fakeSource();
    const written: Array<Record<string, unknown>> = [];
    class RecordingMetrics implements MetricsSink {
      write(record: Record<string, unknown>): void {
        written.push(record);
      }
      flush(): Promise<void> {
        return Promise.resolve();
      }
    }
    const rw = createRankwise();
    rw.provide(Services.Progress, { useValue: { info: (line: string) => lines.push(line), task: () => ({ update: () => undefined, stop: () => undefined }) } });
    rw.provide(Services.Datasets, { useValue: source });
    rw.provide(Services.Metrics, { useClass: RecordingMetrics }); // per run: one instance in each run's container
    const out = await mkdtemp(join(tmpdir(), 'rankwise-services-'));
    const { summary } = await rw.run(
      {
        name: 'services',
        stages: [
          { stage: 'load', architecture: 'mlp', config: { sizes: [784, 8, 10] } },
          { stage: 'evaluate', data: testDigits },
        ],
      },
      { out },
    );
    expect(source.calls).toBe(1);
    expect(summary.evaluations[0].data).toBe('fake-digits');
    expect(lines.some((l) => l.startsWith('evaluate[1]: fake-digits: loss'))).toBe(true);
    expect(written.map((r) => r.event)).toEqual(['stage', 'evaluate', 'stage']);
  });

  test('session() resolves the backend as run does (auto), and leaks no tensors', async () => {
    const tensors = tf.memory().numTensors;
    const session = createRankwise({ progress: new SilentProgress(), datasets: fakeSource() }).session({ model: new Mlp({ sizes: [784, 8, 10] }, 1) });
    expect((await session.backend()).name).toBe((await resolveBackend('auto')).name);
    const record = await session.stage({ stage: 'evaluate', data: testDigits });
    expect(record.data).toBe('fake-digits');
    session.dispose();
    expect(tf.memory().numTensors).toBe(tensors);
  });

  test('inject names every site of a small model, and summarises a large one (first two, last, counts per setting)', async () => {
    const run = async (sizes: number[]) => {
      const lines: string[] = [];
      const progress = { info: (line: string) => lines.push(line), task: () => ({ update: () => undefined, stop: () => undefined }) };
      const session = createRankwise({ progress, datasets: fakeSource(), plugins: [pattern] }).session({ model: new Mlp({ sizes }, 1) });
      await session.stage({ stage: 'freeze' });
      await session.stage({
        stage: 'inject',
        r: 2,
        placement: { plugin: '@rankwise/placement-pattern', options: { target: 'layers.*', rankPattern: { 'layers.0': 4 } } },
      });
      session.dispose();
      return lines.find((l) => l.startsWith('inject: ') && l.includes('sites'));
    };
    expect(await run([8, 6, 4])).toBe('inject: 2 sites (layers.0 r=4 α=2, layers.1 r=2 α=2)');
    expect(await run([8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 4])).toBe('inject: 10 sites (layers.0, layers.1, …, layers.9; 1 at r=4 α=2, 9 at r=2 α=2)');
  });
});

describe('errors from plugin code name the pointer and the package', () => {
  const boom = defineStage<{ failIn: 'check' | 'run' | 'none' }, null>({
    name: 'rankwise-stage-boom',
    description: 'throws where it is told to',
    options: {
      type: 'object',
      additionalProperties: false,
      required: ['failIn'],
      properties: { failIn: { enum: ['check', 'run', 'none'], description: 'Where to throw.' } },
    },
    requires: ['model'],
    provides: [],
    check(options, ctx) {
      if (options.failIn === 'check') throw new Error('boom in check');
      if (options.failIn === 'none') ctx.issue('/failIn', 'found "none", allowed: "check" or "run" (an issue the package reports)');
    },
    run(options) {
      if (options.failIn === 'run') throw new Error('boom in run');
      return null;
    },
  });
  const rw = () => createRankwise({ progress: new SilentProgress(), datasets: createDatasetSource(), plugins: [pattern], stages: [boom] });
  const lines = async (promise: Promise<unknown>): Promise<string[]> => {
    try {
      await promise;
    } catch (error) {
      if (error instanceof PipelineValidationError) return error.issues.map(formatIssue);
      throw error;
    }
    throw new Error('expected a validation error');
  };

  test('a throw in check is an issue at /stages/<i> (package); what the package reports names it too', async () => {
    expect(await lines(rw().validate(stages({ stage: 'rankwise-stage-boom', failIn: 'check' })))).toEqual([
      '<custom-stage>: /stages/3 (rankwise-stage-boom): check failed: boom in check',
    ]);
    expect(await lines(rw().validate(stages({ stage: 'rankwise-stage-boom', failIn: 'none' })))).toEqual([
      '<custom-stage>: /stages/3/failIn (rankwise-stage-boom): found "none", allowed: "check" or "run" (an issue the package reports)',
    ]);
  });

  test('a throw in run fails the run naming /stages/<i> (package), on the CLI line and in summary.json', async () => {
    const out = await mkdtemp(join(tmpdir(), 'rankwise-boom-'));
    const error = await rw()
      .run(stages({ stage: 'rankwise-stage-boom', failIn: 'run' }), { out })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RunFailed);
    const failed = error as RunFailed;
    expect(failed.summary.error).toBe('/stages/3 (rankwise-stage-boom): boom in run');
    expect(failed.message).toMatch(/^custom-stage: failed: \/stages\/3 \(rankwise-stage-boom\): boom in run; partial run in /);
    expect(JSON.parse(await readFile(join(failed.summary.runDir, 'summary.json'), 'utf8')).error).toBe('/stages/3 (rankwise-stage-boom): boom in run');
  });

  test('every missing package is reported in one go, each with a "did you mean" when a near name exists', async () => {
    const pipeline: Pipeline = {
      name: 'typos',
      stages: [
        { stage: 'load', architecture: 'mlp', config: { sizes: [784, 16, 10] } },
        { stage: 'freeze' },
        { stage: 'inject', r: 2, placement: { plugin: '@rankwise/placement-patern', options: { target: 'all-linear' } } },
        { stage: 'trian' } as unknown as StageSpec,
        { stage: 'rankwise-stage-bom', failIn: 'none' } as unknown as StageSpec,
      ],
    };
    const found = await lines(rw().validate(pipeline));
    expect(found).toHaveLength(3);
    expect(found[0]).toMatch(/^<typos>: \/stages\/3\/stage: found "trian" \(did you mean "train"\?\), allowed: "load", /);
    expect(found[1]).toMatch(
      /^<typos>: \/stages\/4\/stage: found "rankwise-stage-bom", allowed: .*plugin "rankwise-stage-bom" is not installed \(did you mean "rankwise-stage-boom"\?\)/,
    );
    expect(found[2]).toMatch(
      /^<typos>: \/stages\/2\/placement\/plugin: plugin "@rankwise\/placement-patern" is not installed \(did you mean "@rankwise\/placement-pattern"\?\)/,
    );
  });
});

describe('a stage package schema default reaches check and run', () => {
  const seen: Array<{ where: string; options: unknown }> = [];
  const defaults = defineStage<{ factor: number; mode: { kind: string; depth: number } }, number>({
    name: 'rankwise-stage-defaults',
    description: 'records the options it is given',
    options: {
      type: 'object',
      additionalProperties: false,
      properties: {
        factor: { type: 'number', default: 2, description: 'The factor.' },
        mode: {
          type: 'object',
          default: {},
          additionalProperties: false,
          properties: { kind: { type: 'string', default: 'fast', description: 'Kind.' }, depth: { type: 'integer', default: 3, description: 'Depth.' } },
          description: 'Mode.',
        },
      },
    },
    requires: ['model'],
    provides: [],
    check(options) {
      seen.push({ where: 'check', options });
    },
    run(options) {
      seen.push({ where: 'run', options });
      return options.factor * options.mode.depth;
    },
  });

  test('defaults fill what the pipeline leaves out (nested too), in check, run and session.stage; the pipeline file stays as written', async () => {
    const rw = createRankwise({ progress: new SilentProgress(), datasets: createDatasetSource(), plugins: [pattern], stages: [defaults] });
    const out = await mkdtemp(join(tmpdir(), 'rankwise-defaults-'));
    const { runDir } = await rw.run(stages({ stage: 'rankwise-stage-defaults', mode: { depth: 5 } }), { out });
    expect(seen).toEqual([
      { where: 'check', options: { factor: 2, mode: { kind: 'fast', depth: 5 } } },
      { where: 'run', options: { factor: 2, mode: { kind: 'fast', depth: 5 } } },
    ]);
    const written = JSON.parse(await readFile(join(runDir, 'pipeline.json'), 'utf8')) as Pipeline;
    expect(written.stages[3]).toEqual({ stage: 'rankwise-stage-defaults', mode: { depth: 5 } });

    const session = rw.session({ seed: 1 });
    await session.stage({ stage: 'load', architecture: 'mlp', config: { sizes: [784, 8, 10] } });
    expect(await session.stage({ stage: 'rankwise-stage-defaults' })).toBe(6);
    session.dispose();
  });
});
