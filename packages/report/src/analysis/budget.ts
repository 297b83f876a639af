import { formatInteger, formatMetric, formatPercent } from '../grid/metrics.js';
import type { GridModel } from '../grid/model.js';
import { FULL_FINE_TUNING, type GridCell } from '../types.js';

/** A cell on the parameter–metric Pareto front, with its distance from full fine-tuning. */
export interface BudgetPoint {
  cell: GridCell;
  /** Grid metric, stored units. */
  value: number;
  /** |value − full fine-tuning's value| in the worse direction (0 when at least as good); null without full fine-tuning. */
  gapToFull: number | null;
}

export interface BudgetAnswer {
  /** Cells no other cell beats with as few or fewer trainable parameters, cheapest first (full fine-tuning included). */
  front: BudgetPoint[];
  /** "Close to full fine-tuning": 1 point of accuracy, else 1 % of full fine-tuning's value. */
  tolerance: number | null;
  /** The cheapest LoRA cell within `tolerance` of full fine-tuning; null when none is (or there is no full cell). */
  cheapestClose: BudgetPoint | null;
  /** One sentence answering "which rank, where, at what cost" for this grid. */
  sentence: string;
}

/**
 * Pareto front over (trainable parameters ↓, metric ↑ or ↓): a cell is on it when every cheaper-or-equal cell is
 * strictly worse. Ties in parameters keep the better cell; equal values keep the cheaper one.
 */
export function paretoFront<T>(items: readonly T[], cost: (t: T) => number, value: (t: T) => number, higherIsBetter: boolean): T[] {
  const better = (a: number, b: number) => (higherIsBetter ? a > b : a < b);
  const sorted = [...items].sort((x, y) => cost(x) - cost(y) || (better(value(x), value(y)) ? -1 : better(value(y), value(x)) ? 1 : 0));
  const front: T[] = [];
  for (const item of sorted) {
    const last = front[front.length - 1];
    if (last === undefined || better(value(item), value(last))) front.push(item);
  }
  return front;
}

function cellLabel(cell: GridCell): string {
  if (cell.kind === 'full') return FULL_FINE_TUNING;
  return `${cell.placement}, r = ${cell.rank}${cell.variant ? ` (${cell.variant})` : ''}`;
}

/** The budget answer of a grid: its Pareto front and the sentence at the top of the report. */
export function budgetAnswer(model: GridModel): BudgetAnswer {
  const { result, info } = model;
  const scored = result.cells.flatMap((cell) => {
    const value = model.value(cell);
    return value === null ? [] : [{ cell, value }];
  });
  const full = model.full && model.value(model.full) !== null ? { cell: model.full, value: model.value(model.full) as number } : null;
  const tolerance = full ? (result.metric === 'accuracy' ? 0.01 : 0.01 * Math.abs(full.value)) : null;
  const gap = (value: number): number | null => (full ? Math.max(0, result.higherIsBetter ? full.value - value : value - full.value) : null);
  const front = paretoFront(
    scored,
    (s) => s.cell.trainableParams,
    (s) => s.value,
    result.higherIsBetter,
  ).map((s) => ({ ...s, gapToFull: gap(s.value) }));
  const lora = front.filter((p) => p.cell.kind === 'lora');
  const cheapestClose = tolerance === null ? null : (lora.find((p) => (p.gapToFull as number) <= tolerance + 1e-12) ?? null);
  const unit = info.unit ? ` ${info.unit}` : '';
  const show = (v: number) => `${formatMetric(info, v)}${unit}`;
  const cost = (c: GridCell) => `${formatInteger(c.trainableParams)} trainable parameters (${formatPercent(c.percentOfFull)} of the base model)`;
  const tolText = result.metric === 'accuracy' ? '1 point' : '1 %';
  let sentence: string;
  if (!full) {
    const best = lora[lora.length - 1];
    sentence = best
      ? `Without a full fine-tuning reference, the best cell is ${cellLabel(best.cell)} at ${show(best.value)} with ${cost(best.cell)}; ${lora.length} cells form the parameter–${info.label} front.`
      : 'No cell has a value for the metric.';
  } else if (cheapestClose) {
    const c = cheapestClose.cell;
    sentence = `The cheapest configuration within ${tolText} of full fine-tuning (${show(full.value)}) is ${cellLabel(c)}: ${show(cheapestClose.value)} with ${cost(c)}, ${formatPercent((100 * c.trainableParams) / full.cell.trainableParams)} of full fine-tuning's trainable parameters.`;
  } else {
    const closest = lora[lora.length - 1];
    sentence = closest
      ? `No LoRA cell comes within ${tolText} of full fine-tuning (${show(full.value)}); the closest is ${cellLabel(closest.cell)} at ${show(closest.value)} (${formatMetric(info, closest.gapToFull as number)}${unit} short) with ${cost(closest.cell)}.`
      : `No LoRA cell has a value for the metric; full fine-tuning reaches ${show(full.value)}.`;
  }
  return { front, tolerance, cheapestClose, sentence };
}
