import { FULL_FINE_TUNING, type FailedGridCell, type GridCell, type GridResult } from '../types.js';
import { metricInfo, type MetricInfo } from './metrics.js';
import { validateGridResult } from './validate.js';

/** A validated grid with lookups shared by the table, the plots and the page. */
export interface GridModel {
  result: GridResult;
  info: MetricInfo;
  /** LoRA rows in y order (result.placements without "full fine-tuning"). */
  placements: string[];
  ranks: number[];
  /** Variant labels in order; [null] without a variant axis (so code can always loop over variants). */
  variants: Array<string | null>;
  full: GridCell | undefined;
  /** The best cell by the metric and its direction (LoRA or full). */
  best: GridCell | undefined;
  /** The LoRA cell at (placement, rank, variant), if it ran. */
  at(placement: string, rank: number, variant?: string | null): GridCell | undefined;
  /** The cell's value of the grid metric, or null when it has none. */
  value(cell: GridCell): number | null;
  /** The failed cell at (placement, rank, variant) (rank null: full fine-tuning), if that cell failed. */
  failedAt(placement: string, rank: number | null, variant?: string | null): FailedGridCell | undefined;
}

export function gridModel(result: GridResult): GridModel {
  validateGridResult(result);
  const byKey = new Map<string, GridCell>();
  const key = (placement: string, rank: number | null, variant: string | null | undefined) => `${placement}\u0000${rank}\u0000${variant ?? ''}`;
  for (const cell of result.cells) if (cell.kind === 'lora') byKey.set(key(cell.placement, cell.rank, cell.variant), cell);
  const value = (cell: GridCell): number | null => {
    const v = cell.metrics[result.metric];
    return Number.isFinite(v) ? v : null;
  };
  let best: GridCell | undefined;
  for (const cell of result.cells) {
    const v = value(cell);
    if (v === null) continue;
    const b = best ? (value(best) as number) : null;
    if (b === null || (result.higherIsBetter ? v > b : v < b)) best = cell;
  }
  return {
    result,
    info: metricInfo(result.metric),
    placements: result.placements.filter((p) => p !== FULL_FINE_TUNING),
    ranks: result.ranks,
    variants: result.variants?.length ? result.variants : [null],
    full: result.cells.find((c) => c.kind === 'full'),
    best,
    at: (placement, rank, variant = null) => byKey.get(key(placement, rank, variant)),
    value,
    failedAt: (placement, rank, variant = null) =>
      (result.failed ?? []).find((f) =>
        rank === null ? f.kind === 'full' : f.kind === 'lora' && f.placement === placement && f.rank === rank && (f.variant ?? null) === variant,
      ),
  };
}
