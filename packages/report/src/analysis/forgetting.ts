import type { GridModel } from '../grid/model.js';
import type { GridCell } from '../types.js';
import { paretoFront } from './budget.js';

/** One cell on the learning-vs-forgetting plane: the grid metric on the target task and on the retained task. */
export interface ForgettingPoint {
  cell: GridCell;
  learned: number;
  retained: number;
}

/**
 * Learning vs forgetting (Biderman et al. 2024, "LoRA Learns Less and Forgets Less"): for every cell with both
 * evaluations, the grid metric on the target task (the grid's evaluation) and on the retained task (`result.retained`).
 * Empty when the grid has no retained evaluation.
 */
export function forgettingPoints(model: GridModel): ForgettingPoint[] {
  const { result } = model;
  if (!result.retained) return [];
  return result.cells.flatMap((cell) => {
    const learned = model.value(cell);
    const retained = cell.evaluations.find((e) => e.label === result.retained)?.metrics[result.metric];
    return learned !== null && Number.isFinite(retained) ? [{ cell, learned, retained: retained as number }] : [];
  });
}

/**
 * The learning–forgetting frontier: points no other point beats on both tasks (better or equal on each, better on one),
 * ordered from best learned to best retained. "Better" is the grid metric's direction on both axes.
 */
export function forgettingFrontier(points: readonly ForgettingPoint[], higherIsBetter: boolean): ForgettingPoint[] {
  // A 2-D Pareto front is a 1-D front with the first objective as the "cost": sort by learned (best first), then keep
  // each point that improves on the retained task.
  const cost = (p: ForgettingPoint) => (higherIsBetter ? -p.learned : p.learned);
  return paretoFront(points, cost, (p) => p.retained, higherIsBetter);
}
