import { describe, expect, test } from 'vitest';
import { gridMarkdown, reportHtml, type GridResult } from '@rankwise/report';
import { digitsGrid } from './fixtures.js';

/** The digits fixture with one LoRA cell and the full fine-tuning corner turned into failures. */
function withFailures(): GridResult {
  const grid = digitsGrid();
  const lora = grid.cells.find((c) => c.placement === 'last layer' && c.rank === 4)!;
  const full = grid.cells.find((c) => c.kind === 'full')!;
  grid.cells = grid.cells.filter((c) => c !== lora && c !== full);
  grid.failed = [
    { id: lora.id, kind: 'lora', rank: 4, placement: 'last layer', error: 'loss is NaN at step 5: training diverged (after 2 attempts)' },
    { id: full.id, kind: 'full', rank: null, placement: 'full fine-tuning', error: 'cell process 123 exited (SIGKILL) (after 2 attempts)' },
  ];
  return grid;
}

describe('failed grid cells in the report', () => {
  test('grid.md marks them "failed" in the tables (not "—") and lists each with its error', () => {
    const md = gridMarkdown(withFailures());
    expect(md).toContain('| last layer | 29.9 | 33.1 | failed | 37.0 | 37.2 | 37.2 |  |');
    expect(md).toContain('| full fine-tuning |  |  |  |  |  |  | failed |');
    const section = md.slice(md.indexOf('## failed cells'));
    expect(section).toContain('| last layer | 4 |');
    expect(section).toContain('loss is NaN at step 5: training diverged (after 2 attempts)');
    expect(section).toContain('| full fine-tuning | full |');
    expect(gridMarkdown(digitsGrid())).not.toContain('## failed cells');
  });

  test('report.html shows them in the grid table and in a failed-cells table, escaped', () => {
    const grid = withFailures();
    grid.failed![0].error = 'bad <input> & more';
    const html = reportHtml(grid);
    expect(html.match(/<td class="failed">failed<\/td>/g)).toHaveLength(2);
    expect(html).toContain('<h3>Failed cells</h3>');
    expect(html).toContain('bad &lt;input&gt; &amp; more');
  });
});
