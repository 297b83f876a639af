/**
 * Random training windows for a character language model: each example is `context` tokens starting
 * at an offset drawn uniformly from [0, ids.length - context - 1], and its targets are the same
 * window shifted by one token (the next token at every position).
 */
import { SplitMix32 } from '../random.js';
import { requireInt32Array, requireInteger, requireSeed } from '../validate.js';

export interface TokenBatch {
  /** [batch, context] row-major. */
  x: Int32Array;
  /** [batch, context]: y[b, t] = the token after x[b, t]. */
  y: Int32Array;
  batch: number;
  context: number;
}

/** Throws unless `context` is an integer in [1, ids.length - 1]. */
export function requireContext(ids: Int32Array, context: number): number {
  requireInteger('context', context, 1);
  if (context >= ids.length) {
    throw new RangeError(
      `context must be shorter than the token stream (a window needs context + 1 tokens): context ${context}, stream ${ids.length} tokens; use a context ≤ ${ids.length - 1}`,
    );
  }
  return context;
}

export class TokenBatcher {
  private readonly ids: Int32Array;
  private readonly context: number;
  private readonly rng: SplitMix32;

  constructor(ids: Int32Array, context: number, seed: number) {
    this.ids = requireInt32Array('ids', ids);
    this.context = requireContext(ids, context);
    this.rng = new SplitMix32(requireSeed('seed', seed));
  }

  /** `batch` windows at fresh random offsets (batch: an integer ≥ 1). */
  next(batch: number): TokenBatch {
    requireInteger('batch', batch, 1);
    const { ids, context } = this;
    const starts = ids.length - context; // offsets 0 .. ids.length - context - 1
    const x = new Int32Array(batch * context);
    const y = new Int32Array(batch * context);
    for (let b = 0; b < batch; b++) {
      const start = this.rng.int(starts);
      x.set(ids.subarray(start, start + context), b * context);
      y.set(ids.subarray(start + 1, start + context + 1), b * context);
    }
    return { x, y, batch, context };
  }
}
