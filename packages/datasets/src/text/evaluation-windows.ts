/**
 * Deterministic evaluation windows: consecutive, non-overlapping windows of context + 1 tokens from
 * the start of `ids` (a trailing remainder shorter than a window is left out); window k gives inputs
 * ids[k(context+1) .. k(context+1)+context) and targets shifted by one.
 */
import { requireInt32Array, requireInteger } from '../validate.js';
import { requireContext } from './token-batcher.js';

export interface EvaluationWindows {
  /** [count, context] row-major. */
  x: Int32Array;
  /** [count, context]. */
  y: Int32Array;
  count: number;
  context: number;
}

export function evaluationWindows(ids: Int32Array, context: number, maxWindows?: number): EvaluationWindows {
  requireInt32Array('ids', ids);
  requireContext(ids, context);
  const limit = maxWindows === undefined ? Infinity : requireInteger('maxWindows', maxWindows, 1);
  const span = context + 1;
  const count = Math.min(Math.floor(ids.length / span), limit);
  const x = new Int32Array(count * context);
  const y = new Int32Array(count * context);
  for (let k = 0; k < count; k++) {
    const start = k * span;
    x.set(ids.subarray(start, start + context), k * context);
    y.set(ids.subarray(start + 1, start + span), k * context);
  }
  return { x, y, count, context };
}
