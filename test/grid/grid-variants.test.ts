import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { createRankwise, PipelineValidationError, type InjectStageSpec, type Pipeline, type TrainStageSpec } from '@rankwise/core';
import { SilentProgress } from '@rankwise/core/runs';
import { expandGrid, gridSection } from '@rankwise/grid';
import { createDatasetSource } from '@rankwise/datasets';
import pattern from '@rankwise/placement-pattern';
import type { GridResult } from '@rankwise/report';
import { runCli } from '../helpers/cli.js';
import { tinyCopies } from '../helpers/tiny-pipelines.js';

const placement = (layers: number[]) => ({ plugin: '@rankwise/placement-pattern', options: { target: 'layers.*', layers } });

const gridPipeline = (): Pipeline => ({
  name: 'variants',
  seed: 3,
  stages: [
    { stage: 'load', architecture: 'mlp', config: { sizes: [784, 16, 10] } },
    { stage: 'freeze' },
    { stage: 'inject', r: 8, alpha: 4, placement: placement([0, 1]) },
    { stage: 'train', data: { dataset: 'digits', split: 'train', limit: 200 }, steps: 5, optimizer: { name: 'adam', lr: 0.01 } },
    { stage: 'evaluate', data: { dataset: 'digits', split: 'test', limit: 100 } },
  ],
  grid: {
    rank: [2, 4],
    placement: [
      { label: 'first', ...placement([0]) },
      { label: 'both', ...placement([0, 1]) },
    ],
    variant: [{ label: 'LoRA' }, { label: 'DoRA', dora: true }, { label: 'PiSSA+', init: 'pissa', loraPlusRatio: 4, alpha: 3 }],
    alpha: '2r',
    fullFineTune: true,
  },
});

describe('grid variant axis', () => {
  test('expands placement × variant × rank (+ full): the variant sets inject options and the LoRA+ ratio of the train stage', () => {
    const cells = expandGrid(gridPipeline());
    expect(cells.map((c) => c.key)).toEqual([
      'r2.first.lora',
      'r4.first.lora',
      'r2.first.dora',
      'r4.first.dora',
      'r2.first.pissa',
      'r4.first.pissa',
      'r2.both.lora',
      'r4.both.lora',
      'r2.both.dora',
      'r4.both.dora',
      'r2.both.pissa',
      'r4.both.pissa',
      'full',
    ]);
    const at = (key: string) => cells.find((c) => c.key === key)!;
    const inject = (key: string) => at(key).pipeline.stages.find((s) => s.stage === 'inject') as InjectStageSpec;
    const train = (key: string) => at(key).pipeline.stages.find((s) => s.stage === 'train') as TrainStageSpec;
    expect(inject('r4.both.lora')).toMatchObject({ r: 4, alpha: 8 });
    expect(inject('r4.both.lora').dora).toBeUndefined();
    expect(inject('r2.first.dora')).toMatchObject({ r: 2, alpha: 4, dora: true });
    expect(inject('r4.first.pissa')).toMatchObject({ r: 4, alpha: 3, init: 'pissa' }); // the variant's alpha wins over "2r"
    expect(train('r4.first.pissa').optimizer.loraPlusRatio).toBe(4);
    expect(train('r4.first.dora').optimizer.loraPlusRatio).toBeUndefined();
    expect(at('r2.first.dora').variant).toBe('DoRA');
    expect(at('full').variant).toBeNull();
  });

  test('validation: a repeated variant label, and PiSSA at a rank above min(in, out) of a site, are named before anything runs', async () => {
    const rankwise = createRankwise({ progress: new SilentProgress(), datasets: createDatasetSource(), plugins: [pattern], sections: [gridSection] });
    const twice = gridPipeline();
    twice.grid!.variant = [
      { label: 'DoRA', dora: true },
      { label: 'DoRA', init: 'olora' },
    ];
    await expect(rankwise.validate(twice, process.cwd())).rejects.toThrow('/grid/variant/1/label: found "DoRA" twice');
    const big = gridPipeline();
    big.grid!.rank = [16];
    const cell = expandGrid(big).find((c) => c.key === 'r16.both.pissa')!;
    const error = await rankwise.validate(cell.pipeline, process.cwd()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PipelineValidationError);
    expect((error as Error).message).toContain(
      '/stages/2/init: init "pissa" takes r components of W, so r must be at most min(in, out) of every adapted site; too small: layers.1 [16, 10] at r = 16',
    );
  });

  test('a digits grid with LoRA, DoRA and PiSSA runs end to end: one heatmap per variant, analyses per variant, DoRA updates not of rank r', async () => {
    const { dir, path } = await tinyCopies({
      'pipelines/digits-base.json': { steps: 20, limit: 300 },
      'pipelines/digits-grid.json': {
        steps: 10,
        limit: 200,
        edit: (p) => {
          p.grid!.rank = [2];
          p.grid!.placement = p.grid!.placement.slice(1, 2);
          p.grid!.variant = [{ label: 'LoRA' }, { label: 'DoRA', dora: true }, { label: 'PiSSA', init: 'pissa' }];
        },
      },
    });
    const out = join(dir, 'runs');
    const run = runCli(['run', path('digits-grid.json'), '--out', out]);
    expect(run.status, run.stderr).toBe(0);
    const gridDir = join(out, 'digits-grid', 'latest', 'grid');
    const result = JSON.parse(readFileSync(join(gridDir, 'grid.json'), 'utf8')) as GridResult;
    expect(result.variants).toEqual(['LoRA', 'DoRA', 'PiSSA']);
    expect(result.cells.map((c) => c.variant ?? null)).toEqual(['LoRA', 'DoRA', 'PiSSA', null]);
    const lora = result.cells[0];
    const dora = result.cells[1];
    expect(dora.trainableParams - lora.trainableParams).toBe(256 + 10); // one magnitude per output of layers.1 and layers.2
    expect(result.cells[2].trainableParams).toBe(lora.trainableParams);
    const files = readdirSync(gridDir);
    for (const f of ['heatmap-lora.svg', 'heatmap-dora.svg', 'heatmap-pissa.svg', 'tradeoff.svg', 'report.html']) expect(files).toContain(f);
    expect(files).not.toContain('heatmap.svg');
    const sites = result.analyses!.sites.filter((s) => s.rank !== null);
    expect(new Set(sites.map((s) => s.variant))).toEqual(new Set(['LoRA', 'DoRA', 'PiSSA']));
    // A LoRA update has at most r non-zero singular values; DoRA's rescaled columns make it full rank.
    const nonZero = (values: number[]) => values.filter((v) => v > 1e-6 * values[0]).length;
    for (const s of sites.filter((x) => x.variant === 'LoRA')) expect(nonZero(s.spectrum.singularValues)).toBeLessThanOrEqual(2);
    for (const s of sites.filter((x) => x.variant === 'PiSSA')) expect(nonZero(s.spectrum.singularValues)).toBeLessThanOrEqual(4); // converted: rank 2r
    expect(Math.max(...sites.filter((x) => x.variant === 'DoRA').map((s) => nonZero(s.spectrum.singularValues)))).toBeGreaterThan(2);
    const markdown = readFileSync(join(gridDir, 'grid.md'), 'utf8');
    expect(markdown).toContain('— variant DoRA');
    expect(readFileSync(join(gridDir, 'tradeoff.svg'), 'utf8')).toContain('variant (colour)');
  });
});
