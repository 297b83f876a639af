import { budgetAnswer } from '../analysis/budget.js';
import { FULL_FINE_TUNING } from '../types.js';
import { formatInteger, formatMetric, formatPercent } from './metrics.js';
import type { GridModel } from './model.js';

/** Rows of the budget table (shared by Markdown and HTML): the Pareto front, cheapest first. */
export interface BudgetRow {
  params: string;
  share: string;
  cell: string;
  metric: string;
  gap: string;
}

export const BUDGET_COLUMNS: Array<[keyof BudgetRow, string]> = [
  ['params', 'trainable params'],
  ['share', '% of base'],
  ['cell', 'best cell at this budget'],
  ['metric', 'metric'],
  ['gap', 'short of full fine-tuning'],
];

export function budgetRows(model: GridModel): BudgetRow[] {
  return budgetAnswer(model).front.map((p) => ({
    params: formatInteger(p.cell.trainableParams),
    share: formatPercent(p.cell.percentOfFull),
    cell: p.cell.kind === 'full' ? FULL_FINE_TUNING : `${p.cell.placement}, r = ${p.cell.rank}${p.cell.variant ? `, ${p.cell.variant}` : ''}`,
    metric: formatMetric(model.info, p.value),
    gap: p.gapToFull === null ? '—' : p.gapToFull === 0 ? '0' : formatMetric(model.info, p.gapToFull),
  }));
}
