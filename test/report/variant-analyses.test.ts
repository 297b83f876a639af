import { describe, expect, test } from 'vitest';
import {
  budgetAnswer,
  chanceSubspaceSimilarity,
  doraDelta,
  forgettingFrontier,
  forgettingPoints,
  gridMarkdown,
  rankScaling,
  intruderDimensions,
  loraDelta,
  paretoFront,
  renderReport,
  subspaceSimilarity,
  type GridCell,
  type GridResult,
  type Matrix,
} from '@rankwise/report';
import { gridModel } from '../../packages/report/src/grid/model.js';
import { randomMatrix } from './fixtures.js';
import { compose, randomOrthonormal } from './helpers.js';

const cell = (placement: string, rank: number | null, params: number, accuracy: number, variant?: string): GridCell => ({
  id: `${placement}-${rank}-${variant ?? ''}`,
  kind: rank === null ? 'full' : 'lora',
  rank,
  placement: rank === null ? 'full fine-tuning' : placement,
  ...(variant ? { variant } : {}),
  alpha: rank,
  trainableParams: params,
  totalParams: 100_000,
  percentOfFull: params / 1000,
  metrics: { accuracy },
  evaluations: [],
  durationMs: 1000,
  runDir: 'cells/x',
  cached: false,
});

function grid(cells: GridCell[], extra: Partial<GridResult> = {}): GridResult {
  return {
    pipeline: 'synthetic',
    metric: 'accuracy',
    higherIsBetter: true,
    ranks: [1, 2, 4, 8],
    placements: ['first', 'all'],
    cells,
    createdAt: '2026-12-04T00:00:00.000Z',
    backend: 'cpu',
    ...extra,
  };
}

describe('the budget answer (Pareto front + one sentence)', () => {
  test('paretoFront keeps exactly the cells no cheaper-or-equal cell beats', () => {
    const items = [
      { c: 5, v: 0.5 },
      { c: 1, v: 0.2 },
      { c: 3, v: 0.1 },
      { c: 3, v: 0.4 },
      { c: 9, v: 0.45 },
      { c: 12, v: 0.9 },
    ];
    expect(
      paretoFront(
        items,
        (x) => x.c,
        (x) => x.v,
        true,
      ),
    ).toEqual([
      { c: 1, v: 0.2 },
      { c: 3, v: 0.4 },
      { c: 5, v: 0.5 },
      { c: 12, v: 0.9 },
    ]);
    expect(
      paretoFront(
        items,
        (x) => x.c,
        (x) => x.v,
        false,
      ),
    ).toEqual([
      { c: 1, v: 0.2 },
      { c: 3, v: 0.1 },
    ]);
  });

  test('the cheapest cell within 1 point of full fine-tuning is named with its cost', () => {
    const result = grid([
      cell('first', 1, 1000, 0.9),
      cell('all', 2, 5000, 0.955),
      cell('all', 4, 10_000, 0.951),
      cell('all', 8, 20_000, 0.962),
      cell('', null, 100_000, 0.96),
    ]);
    const answer = budgetAnswer(gridModel(result));
    expect(answer.front.map((p) => p.cell.id)).toEqual(['first-1-', 'all-2-', 'all-8-']); // r=4 and full fine-tuning are beaten by cheaper cells
    expect(answer.front.map((p) => p.gapToFull)).toEqual([expect.closeTo(0.06, 12), expect.closeTo(0.005, 12), 0]);
    expect(answer.sentence).toBe(
      "The cheapest configuration within 1 point of full fine-tuning (96.0 %) is all, r = 2: 95.5 % with 5,000 trainable parameters (5 % of the base model), 5 % of full fine-tuning's trainable parameters.",
    );
    const md = gridMarkdown(result);
    expect(md.split('\n')[2]).toBe(`**${answer.sentence}**`);
    expect(md).toContain('| 5,000 | 5 % | all, r = 2 | 95.5 | 0.5 |');
  });

  test('when no cell is close, the closest is named with its gap; lower-is-better metrics use 1 % of full fine-tuning', () => {
    const result = grid([cell('first', 1, 1000, 0.8), cell('all', 2, 5000, 0.9), cell('', null, 100_000, 0.97)]);
    expect(budgetAnswer(gridModel(result)).sentence).toBe(
      'No LoRA cell comes within 1 point of full fine-tuning (97.0 %); the closest is all, r = 2 at 90.0 % (7.0 % short) with 5,000 trainable parameters (5 % of the base model).',
    );
    const bpc = (placement: string, rank: number | null, params: number, v: number) => ({ ...cell(placement, rank, params, 0), metrics: { bitsPerChar: v } });
    const lm = grid([bpc('first', 1, 1000, 2.5), bpc('all', 2, 5000, 2.12), bpc('', null, 100_000, 2.1)], { metric: 'bitsPerChar', higherIsBetter: false });
    const answer = budgetAnswer(gridModel(lm));
    expect(answer.tolerance).toBeCloseTo(0.021, 12);
    expect(answer.cheapestClose?.cell.id).toBe('all-2-'); // 2.12 is 0.02 above 2.1: within 1 %
  });

  test('the trade-off plot draws the front (dashed) and the page opens with the sentence; variant grids name the variant', () => {
    const result = grid(
      [
        cell('first', 1, 1000, 0.9, 'LoRA'),
        cell('first', 1, 1100, 0.93, 'DoRA'),
        cell('all', 2, 5000, 0.955, 'LoRA'),
        cell('all', 2, 5200, 0.958, 'DoRA'),
        cell('', null, 100_000, 0.96),
      ],
      { ranks: [1, 2], variants: ['LoRA', 'DoRA'] },
    );
    const report = renderReport(result);
    expect(report.tradeoff).toContain('stroke-dasharray="5,4"');
    expect(report.tradeoff).toContain('variant (colour)');
    expect(report.heatmaps.map((h) => h.file)).toEqual(['heatmap-lora.svg', 'heatmap-dora.svg']);
    expect(report.html).toContain(
      '<p class="answer"><strong>The cheapest configuration within 1 point of full fine-tuning (96.0 %) is all, r = 2 (LoRA): 95.5 %',
    );
  });
});

describe('intruder dimensions', () => {
  // W [in 64, out 48] = U·diag(s)·Vᵀ with a fast-decaying spectrum, so small changes cannot reorder its top directions.
  const u = randomOrthonormal(64, 48, 1);
  const v = randomOrthonormal(48, 48, 2);
  const s = Array.from({ length: 48 }, (_, i) => 10 * 0.8 ** i);
  const w = compose(u, s, v);
  const column = (m: Matrix, j: number) => Array.from({ length: m.rows }, (_, i) => m.data[i * m.cols + j]);

  test('a rank-1 update along a direction equally spread over 5 of W’s singular vectors (|cos| = 1/√5 < 0.5) is exactly one intruder', () => {
    const dir = Array.from({ length: 48 }, (_, x) => [40, 41, 42, 43, 44].reduce((t, j) => t + column(v, j)[x], 0) / Math.sqrt(5));
    const left = column(u, 45);
    const tuned = { rows: 64, cols: 48, data: Float64Array.from(w.data, (x, k) => x + 30 * left[Math.floor(k / 48)] * dir[k % 48]) };
    const found = intruderDimensions(w, tuned, 10, 0.5);
    expect(found.count).toBe(1);
    expect(found.maxSimilarity[0]).toBeCloseTo(1 / Math.sqrt(5), 3);
    expect(Math.min(...found.maxSimilarity.slice(1))).toBeGreaterThan(0.99);
  });

  test('rescaling W, or a small update inside its top directions, creates none', () => {
    expect(intruderDimensions(w, { ...w, data: w.data.map((x) => 1.05 * x) }).count).toBe(0);
    const small = loraDelta({ rows: 64, cols: 1, data: Float64Array.from(column(u, 0)) }, { rows: 1, cols: 48, data: Float64Array.from(column(v, 0)) }, 0.5);
    expect(intruderDimensions(w, { ...w, data: Float64Array.from(w.data, (x, k) => x + small.data[k]) }).count).toBe(0);
  });
});

describe('φ against chance', () => {
  test('random factors give φ(i, j) ≈ max(i, j) / in (within 40 %, 64 draws: φ(1, 1) is one squared cosine, relative std √2 per draw); learned overlap stands far above it', () => {
    const chance = chanceSubspaceSimilarity(256, 4, 8, 64, 7);
    for (const [i, j] of [
      [1, 1],
      [2, 8],
      [4, 4],
      [4, 8],
    ]) {
      const expected = Math.max(i, j) / 256;
      expect(Math.abs(chance[i - 1][j - 1] - expected) / expected, `φ(${i}, ${j})`).toBeLessThan(0.4);
    }
    const a = randomMatrix(256, 4, 3);
    const b = {
      rows: 256,
      cols: 8,
      data: Float64Array.from({ length: 256 * 8 }, (_, k) => (k % 8 < 4 ? a.data[Math.floor(k / 8) * 4 + (k % 8)] : Math.sin(k))),
    };
    expect(subspaceSimilarity(a, b).data[3 * 8 + 7]).toBeGreaterThan(0.99); // φ(4, 8): span(A) lies inside span(B), far above chance 8/256
  });

  test('seeded: the same arguments give the same chance level', () => {
    expect(chanceSubspaceSimilarity(64, 2, 3, 2, 5)).toEqual(chanceSubspaceSimilarity(64, 2, 3, 2, 5));
  });
});

describe('DoRA update', () => {
  test('m = ‖W + s·A·B‖ gives ΔW = s·A·B exactly; m = 2·‖·‖ gives W + 2·s·A·B', () => {
    const w = randomMatrix(6, 5, 1);
    const a = randomMatrix(6, 2, 2);
    const b = randomMatrix(2, 5, 3);
    const lora = loraDelta(a, b, 1.5);
    const norms = Array.from({ length: 5 }, (_, j) => Math.hypot(...Array.from({ length: 6 }, (_, i) => w.data[i * 5 + j] + lora.data[i * 5 + j])));
    const same = doraDelta(w, a, b, 1.5, norms);
    same.data.forEach((x, k) => expect(x).toBeCloseTo(lora.data[k], 12));
    const doubled = doraDelta(
      w,
      a,
      b,
      1.5,
      norms.map((n) => 2 * n),
    );
    doubled.data.forEach((x, k) => expect(x).toBeCloseTo(w.data[k] + 2 * lora.data[k], 12));
  });
});

describe('learning vs forgetting', () => {
  const withRetained = (c: GridCell, retained: number): GridCell => ({
    ...c,
    evaluations: [
      { index: 4, label: 'target', stage: 'evaluate', data: 't', metrics: c.metrics },
      { index: 5, label: 'kept', stage: 'evaluate', data: 'k', metrics: { accuracy: retained } },
    ],
  });
  const result = grid(
    [
      withRetained(cell('first', 1, 1000, 0.8, undefined), 0.95), // learns little, forgets nothing: frontier
      withRetained(cell('first', 2, 2000, 0.85, undefined), 0.9), // frontier
      withRetained(cell('all', 2, 5000, 0.84, undefined), 0.89), // beaten by first r=2 on both
      withRetained(cell('all', 8, 20_000, 0.93, undefined), 0.8), // frontier
      withRetained(cell('', null, 100_000, 0.96), 0.6), // full fine-tuning learns most, forgets most: frontier
    ],
    { retained: 'kept' },
  );

  test('points pair each cell’s target and retained metric; the frontier is exactly the cells no other beats on both', () => {
    const model = gridModel(result);
    const points = forgettingPoints(model);
    expect(points.map((p) => [p.learned, p.retained])).toEqual([
      [0.8, 0.95],
      [0.85, 0.9],
      [0.84, 0.89],
      [0.93, 0.8],
      [0.96, 0.6],
    ]);
    expect(forgettingFrontier(points, true).map((p) => p.cell.id)).toEqual(['-null-', 'all-8-', 'first-2-', 'first-1-']);
    // lower-is-better: the same numbers as losses flip which cells win
    const lower = forgettingFrontier(points, false).map((p) => p.cell.id);
    expect(lower).toEqual(['first-1-', 'all-2-', 'all-8-', '-null-']);
  });

  test('the report has the scatter (forgetting.svg) and a table marking the frontier; no retained evaluation, no section', () => {
    const report = renderReport(result);
    expect(report.forgetting).toContain('learning vs forgetting');
    const md = gridMarkdown(result);
    expect(md).toContain('## learning vs forgetting (retained: kept)');
    expect(md).toContain('| all | 2 | 84.0 | 89.0 |  |');
    expect(md).toContain('| first | 2 | 85.0 | 90.0 | yes |');
    expect(renderReport({ ...result, retained: undefined }).forgetting).toBeNull();
  });
});

describe('rank under α/r vs α/√r', () => {
  // α/r: the loss stops improving after r = 4; α/√r: it keeps falling to r = 16.
  const loss = { LoRA: [1.0, 0.8, 0.7, 0.7, 0.71], rsLoRA: [0.95, 0.7, 0.55, 0.45, 0.37] };
  const ranks = [1, 2, 4, 8, 16];
  const cells = (Object.entries(loss) as Array<[keyof typeof loss, number[]]>).flatMap(([variant, ls]) =>
    ranks.map((r, i) => ({ ...cell('all', r, 1000 * r, 0.9, variant), rslora: variant === 'rsLoRA', finalLoss: ls[i] })),
  );
  const result = grid([...cells, cell('', null, 100_000, 0.95)], { ranks, placements: ['all'], variants: ['LoRA', 'rsLoRA'] });

  test('per series: the change over all ranks and over the upper half; the sentence states both scalings', () => {
    const scaling = rankScaling(gridModel(result));
    expect(scaling.series.map((s) => [s.variant, s.rslora])).toEqual([
      ['LoRA', false],
      ['rsLoRA', true],
    ]);
    expect(scaling.changes.map((c) => [c.total, c.upperHalf].map((x) => Number(x.toFixed(6))))).toEqual([
      [-0.29, 0.01],
      [-0.58, -0.18],
    ]);
    expect(scaling.sentence).toBe(
      'Averaged over 2 series: with α/r the final training loss changes by −0.29 from r = 1 to r = 16, +0.01 of it from r = 4 on; with α/√r the final training loss changes by −0.58 from r = 1 to r = 16, −0.18 of it from r = 4 on (negative: higher rank still helps).',
    );
    expect(renderReport(result).rankScaling).toContain('final training loss vs rank');
  });

  test('a grid with one scaling only has no such section', () => {
    const one = grid(
      cells.filter((c) => c.variant === 'LoRA').map((c) => ({ ...c, variant: undefined })),
      { ranks },
    );
    expect(rankScaling(gridModel(one)).sentence).toBeNull();
    expect(renderReport(one).rankScaling).toBeNull();
  });
});
