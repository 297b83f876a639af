import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Rankwise, RunSummary, ValidatedPipeline } from '@rankwise/core';
import { expandGrid, type GridCellPlan } from './grid-expand.js';

/** A cell ready to run: its validated pipeline and the cache directory its content hash names. */
export interface PlannedCell {
  plan: GridCellPlan;
  validated: ValidatedPipeline;
  /** runs/<grid>/cells/<key>-<hash12>: the same configuration always lands in the same place. */
  dir: string;
  /** The finished run's summary when this configuration already ran to completion. */
  cached: RunSummary | null;
}

/**
 * Expands the grid and validates every cell pipeline. The cache key is the cell pipeline's content hash, which
 * covers its stages, seed and everything it loads (the base pipeline's hash or checkpoint bytes).
 */
export async function planCells(rankwise: Rankwise, grid: ValidatedPipeline, outRoot: string, force: boolean): Promise<PlannedCell[]> {
  const cellsRoot = join(outRoot, grid.pipeline.name, 'cells');
  const planned: PlannedCell[] = [];
  for (const plan of expandGrid(grid.pipeline)) {
    const validated = await rankwise.validate(plan.pipeline, grid.dir);
    const dir = join(cellsRoot, `${plan.key}-${validated.hash.slice(0, 12)}`);
    const cached = force ? null : await finishedSummary(dir);
    planned.push({ plan, validated, dir, cached });
  }
  return planned;
}

async function finishedSummary(dir: string): Promise<RunSummary | null> {
  try {
    const summary = JSON.parse(await readFile(join(dir, 'summary.json'), 'utf8')) as RunSummary;
    return summary.status === 'completed' ? summary : null;
  } catch {
    return null;
  }
}
