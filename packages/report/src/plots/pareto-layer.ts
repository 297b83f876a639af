import { budgetAnswer } from '../analysis/budget.js';
import { shownValue } from '../grid/metrics.js';
import type { GridModel } from '../grid/model.js';

/** The Pareto front of the trade-off plot: a dashed grey step through the cells no cheaper cell beats. */
export function paretoLayers(model: GridModel): object[] {
  const front = budgetAnswer(model).front.map((p) => ({ params: p.cell.trainableParams, value: shownValue(model.info, p.value) }));
  if (front.length < 2) return [];
  return [
    {
      data: { values: front },
      mark: { type: 'line', interpolate: 'step-after', stroke: '#777', strokeDash: [5, 4], strokeWidth: 1.5 },
      encoding: { x: { field: 'params', type: 'quantitative' }, y: { field: 'value', type: 'quantitative' } },
    },
  ];
}
