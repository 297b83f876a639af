import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import type { GridResult } from '@rankwise/report';
import { runCli, spawnCli } from '../helpers/cli.js';
import { tinyDigitsGrid as tinyGrid } from '../helpers/tiny-pipelines.js';

const gridJson = (out: string): GridResult => {
  const base = join(out, 'digits-grid', 'latest', 'grid');
  return JSON.parse(readFileSync(join(base, 'grid.json'), 'utf8')) as GridResult;
};

describe('grid through the CLI', () => {
  test('a killed grid run resumes: the second run finishes only the missing cells; --force --workers 2 recomputes the same grid', async () => {
    const { dir, path } = await tinyGrid();
    const out = join(dir, 'runs');
    // Run until the second cell has finished, then kill the process outright (no clean shutdown).
    const child = spawnCli(['run', path('digits-grid.json'), '--out', out]);
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (/grid: \[2\/5\]/.test(stdout)) child.kill('SIGKILL');
    });
    await new Promise((resolve) => child.on('exit', resolve));
    expect(stdout).toContain('grid: 5 cells, 0 finished earlier, 5 to run');
    const finishedBefore = readdirSync(join(out, 'digits-grid', 'cells')).filter((d) => {
      try {
        return JSON.parse(readFileSync(join(out, 'digits-grid', 'cells', d, 'summary.json'), 'utf8')).status === 'completed';
      } catch {
        return false;
      }
    });
    expect(finishedBefore.length).toBeGreaterThanOrEqual(2);
    expect(finishedBefore.length).toBeLessThan(5);

    const again = runCli(['run', path('digits-grid.json'), '--out', out]);
    expect(again.status).toBe(0);
    expect(again.stdout).toContain(`grid: 5 cells, ${finishedBefore.length} finished earlier, ${5 - finishedBefore.length} to run`);
    const result = gridJson(out);
    expect(result.cells).toHaveLength(5);
    expect(result.cells.filter((c) => c.cached)).toHaveLength(finishedBefore.length);
    const files = readdirSync(join(out, 'digits-grid', 'latest', 'grid'));
    for (const f of ['grid.json', 'grid.md', 'heatmap.svg', 'tradeoff.svg', 'report.html']) expect(files).toContain(f);

    // A third run reuses everything; --force recomputes everything, here in two worker processes, with the same
    // numbers and analyses as the sequential runs (same seed and backend).
    const third = runCli(['run', path('digits-grid.json'), '--out', out]);
    expect(third.stdout).toContain('grid: 5 cells, 5 finished earlier, 0 to run');
    const forced = runCli(['run', path('digits-grid.json'), '--out', out, '--force', '--workers', '2']);
    expect(forced.stderr).toBe('');
    expect(forced.status).toBe(0);
    expect(forced.stdout).toContain('grid: 5 cells, 0 finished earlier, 5 to run');
    expect(forced.stdout).toContain('(2 at a time)');
    expect(forced.stdout).toMatch(/\[w2\] running/);
    const parallel = gridJson(out);
    // every cell is a TensorBoard run of its own (written by the worker processes here), with its report.html
    const cells = join(out, 'digits-grid', 'cells');
    for (const cell of readdirSync(cells).filter((d) => readdirSync(join(cells, d)).includes('summary.json'))) {
      const files = readdirSync(join(cells, cell));
      expect(
        files.filter((f) => f.startsWith('events.out.tfevents.')),
        cell,
      ).toHaveLength(1);
      expect(files, cell).toContain('report.html');
    }
    expect(parallel.cells.map((c) => c.metrics)).toEqual(result.cells.map((c) => c.metrics));
    const key = (r: GridResult) => r.cells.map((c) => [c.placement, c.rank, c.trainableParams, c.metrics]);
    expect(key(parallel)).toEqual(key(result));
    expect(result.analyses?.sites.length).toBeGreaterThan(0);
    expect(parallel.analyses).toEqual(result.analyses);
  }, 300_000);
});
