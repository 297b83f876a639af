import { relative } from 'node:path';
import type { ValidatedPipeline } from '@rankwise/core';
import { TASK_METRICS } from './grid-check.js';
import type { FailedGridCell, GridCell, GridResult } from '@rankwise/report';
import type { CellOutcome } from './run-cells.js';

/** Metric the heatmap colours by: the grid's `metric`, else accuracy (classification) or bitsPerChar (text). */
function gridMetric(grid: ValidatedPipeline): { metric: string; higherIsBetter: boolean } {
  const task = grid.output?.task ?? 'classification';
  const metric = grid.pipeline.grid?.metric ?? TASK_METRICS[task]?.[0] ?? 'loss';
  return { metric, higherIsBetter: metric === 'accuracy' };
}

/** One row of grid.json per finished cell: what it trained, what it scored, where its run is. */
export function gridResult(grid: ValidatedPipeline, outcomes: CellOutcome[], gridDir: string, backend: string): GridResult {
  const spec = grid.pipeline.grid!;
  const { metric, higherIsBetter } = gridMetric(grid);
  const cells: GridCell[] = [];
  const failed: FailedGridCell[] = [];
  for (const { cell, summary, cached, error } of outcomes) {
    if (!summary) {
      const { kind, rank, placement, variant } = cell.plan;
      failed.push({ id: cell.validated.hash.slice(0, 16), kind, rank, placement, ...(variant ? { variant } : {}), error: error ?? 'failed' });
      continue;
    }
    const evaluation = spec.evaluation === undefined ? summary.evaluations.at(-1) : summary.evaluations.find((e) => e.label === spec.evaluation);
    // PEFT's "all params" counts the adapters; the base model is what is left.
    const baseParams = cell.plan.kind === 'full' ? summary.totalParams : summary.totalParams - summary.trainableParams;
    cells.push({
      id: cell.validated.hash.slice(0, 16),
      kind: cell.plan.kind,
      rank: cell.plan.rank,
      placement: cell.plan.placement,
      variant: cell.plan.variant,
      ...(cell.plan.kind === 'lora' ? { rslora: cell.plan.pipeline.stages.some((s) => s.stage === 'inject' && s.rslora === true) } : {}),
      ...(Number.isFinite(summary.training.at(-1)?.finalLoss) ? { finalLoss: summary.training.at(-1)!.finalLoss } : {}),
      alpha: cell.plan.alpha,
      trainableParams: summary.trainableParams,
      totalParams: baseParams,
      percentOfFull: (100 * summary.trainableParams) / baseParams,
      metrics: evaluation?.metrics ?? {},
      evaluations: summary.evaluations.map(({ index, label, stage, data, metrics }) => ({ index, label, stage, data, metrics })),
      durationMs: summary.durationMs,
      runDir: relative(gridDir, summary.runDir),
      cached,
    });
  }
  return {
    pipeline: grid.pipeline.name,
    metric,
    higherIsBetter,
    ranks: [...spec.rank],
    placements: spec.placement.map((p) => p.label),
    ...(spec.variant ? { variants: spec.variant.map((v) => v.label) } : {}),
    ...(spec.retained ? { retained: spec.retained } : {}),
    cells,
    createdAt: new Date().toISOString(),
    backend,
    ...(failed.length > 0 ? { failed } : {}),
  };
}
