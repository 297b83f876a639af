import { describe, expect, test } from 'vitest';
import { gridMarkdown, validateGridResult, type GridResult } from '@rankwise/report';
import { charLmGrid, digitsGrid } from './fixtures.js';

function tableAfter(md: string, heading: string): string[][] {
  const start = md.indexOf(heading);
  expect(start, heading).toBeGreaterThanOrEqual(0);
  const lines = md.slice(start).split('\n').slice(2);
  const rows: string[][] = [];
  for (const line of lines) {
    if (!line.startsWith('|')) break;
    rows.push(line.slice(2, -2).split(' | '));
  }
  return rows;
}

describe('gridMarkdown', () => {
  test('digits (accuracy, higher is better): placement × rank table, full fine-tuning row, parameters table', () => {
    const md = gridMarkdown(digitsGrid());
    expect(md).toContain('# digits-rotate90-grid: expressivity vs rank');
    expect(md).toContain('Metric: **accuracy (%)**, higher is better');
    const metric = tableAfter(md, '## accuracy (%) — higher is better');
    expect(metric[0]).toEqual(['placement \\ rank', '1', '2', '4', '8', '16', '32', 'full']);
    expect(metric[2]).toEqual(['first layer', '62.1', '74.1', '86.2', '91.9', '94.5', '95.3', '']);
    expect(metric[3]).toEqual(['last layer', '29.9', '33.1', '36.0', '37.0', '37.2', '37.2', '']);
    expect(metric[4]).toEqual(['all layers', '70.3', '83.2', '91.0', '94.5', '95.8', '96.2', '']);
    expect(metric[5]).toEqual(['full fine-tuning', '', '', '', '', '', '', '**96.5**']); // best = bold
    const params = tableAfter(md, "## trainable parameters (share of the base model's 269,322)");
    expect(params[2][1]).toBe('1,040 (0.386 %)'); // r·(784 + 256) of 269,322
    expect(params[4][6]).toBe('58,176 (21.6 %)'); // 32·(1040 + 512 + 266)
    expect(params[5][7]).toBe('269,322 (100 %)');
    const cells = tableAfter(md, '## all cells');
    expect(cells.length).toBe(2 + 19);
    expect(md).toContain('19 cells (3 placements × 6 ranks + full fine-tuning)');
    expect(md).toContain('4 reused from an earlier run');
  });

  test('char LM (bits per char, lower is better): best is the lowest, missing cell shown as —', () => {
    const md = gridMarkdown(charLmGrid());
    expect(md).toContain('Metric: **bits per character (bits/char)**, lower is better; the best cell');
    const metric = tableAfter(md, '## bits per character (bits/char) — lower is better');
    expect(metric[3]).toEqual(['mlp', '2.398', '2.322', '2.268', '—', '']);
    expect(metric[5][5]).toBe('**2.139**');
    expect(md).toContain('1 not run');
  });

  test('analyses add a spectra table', () => {
    const md = gridMarkdown(digitsGrid(true));
    const rows = tableAfter(md, '## analyses (LoRA paper §7)');
    expect(rows[0]).toEqual([
      'site',
      'placement',
      'rank r',
      'effective rank',
      'top-r share of ‖ΔW‖²_F',
      'amplification ‖ΔW‖_F / ‖UᵀWV‖_F',
      '‖ΔW‖_F',
      'σ₁',
      'intruder dimensions (top-k, cos < 0.5)',
    ]);
    expect(rows.length).toBe(2 + 13);
    expect(rows[2][4]).toBe('100.0 %'); // a rank-1 update is all in its top direction
  });

  test('placement labels with a "|" are escaped', () => {
    const g = digitsGrid();
    g.placements[0] = 'q|v';
    g.cells.forEach((c) => c.placement === 'first layer' && (c.placement = 'q|v'));
    expect(gridMarkdown(g)).toContain('| q\\|v | 62.1 |');
  });
});

describe('validation', () => {
  const broken =
    (edit: (g: GridResult) => void): (() => void) =>
    () => {
      const g = digitsGrid();
      edit(g);
      validateGridResult(g);
    };
  test('clear errors for inconsistent grids', () => {
    expect(broken((g) => (g.cells[0].rank = 3))).toThrow(/cell 0 \(c00000000\) has rank 3, which is not in ranks \[1, 2, 4, 8, 16, 32\]/);
    expect(broken((g) => (g.cells[0].placement = 'middle layer'))).toThrow(/placement "middle layer", which is not in placements/);
    expect(broken((g) => (g.cells[1].rank = 1))).toThrow(/cells cell 0 \(c00000000\) and cell 1 \(c00000001\) are both at placement "first layer", rank 1/);
    expect(broken((g) => g.cells.push({ ...g.cells[18], id: 'again' }))).toThrow(/both at full fine-tuning/);
    expect(broken((g) => (g.metric = 'acc'))).toThrow(/no cell has a value for metric "acc"; the cells have: accuracy, loss/);
    expect(broken((g) => (g.ranks = [1, 2, 2]))).toThrow(/rank 2 is listed twice/);
    expect(broken((g) => (g.cells[18].rank = 64))).toThrow(/full fine-tuning but has rank 64/);
    expect(broken((g) => (g.cells[2].trainableParams = Number.NaN))).toThrow(/trainableParams = NaN/);
    expect(broken((g) => (g.cells = []))).toThrow(/cells must be a non-empty array/);
    expect(() => gridMarkdown({ ...digitsGrid(), ranks: [] })).toThrow(/ranks must be a non-empty array/);
  });
});
