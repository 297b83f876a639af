import { assertMatrix, assertSameShape, type Matrix } from '../linalg/matrix.js';
import { svd, type Svd } from '../linalg/svd.js';

export interface IntruderDimensions {
  /** How many top singular vectors of the fine-tuned W were examined. */
  k: number;
  /** Cosine similarity below which a direction is an intruder. */
  threshold: number;
  /** Top-k singular vectors of the fine-tuned W with no pretrained singular vector above `threshold` (|cos|). */
  count: number;
  /** For each of the top k: the largest |cos| with any pretrained singular vector. */
  maxSimilarity: number[];
}

/**
 * Intruder dimensions (Shuttleworth et al. 2024, "LoRA vs Full Fine-tuning: An Illusion of Equivalence"): the top-k
 * singular vectors of the fine-tuned weight W + ΔW that have cosine similarity below `threshold` with every singular
 * vector of the pretrained W. Compared in the output space, as the paper does with PyTorch's [out, in] weights: in
 * rankwise's [in, out] layout those are the right singular vectors. `pretrained`: svd(W) when already computed.
 */
export function intruderDimensions(w: Matrix, tuned: Matrix, k = 10, threshold = 0.5, pretrained?: Svd): IntruderDimensions {
  assertMatrix(w, 'intruderDimensions W');
  assertMatrix(tuned, 'intruderDimensions tuned W');
  assertSameShape(w, tuned, 'intruderDimensions: W and the fine-tuned W must have the same shape and layout [in, out]');
  if (!(threshold > 0 && threshold < 1)) throw new RangeError(`intruderDimensions: threshold ${threshold} must be in (0, 1)`);
  const n = Math.min(w.rows, w.cols);
  const kk = Math.min(k, n);
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`intruderDimensions: k = ${k} must be a positive integer`);
  const before = (pretrained ?? svd(w)).v; // [out, n]
  const after = svd(tuned).v; // [out, n]
  const out = w.cols;
  const maxSimilarity: number[] = [];
  for (let i = 0; i < kk; i++) {
    let best = 0;
    for (let j = 0; j < before.cols; j++) {
      let dot = 0;
      for (let x = 0; x < out; x++) dot += after.data[x * after.cols + i] * before.data[x * before.cols + j];
      best = Math.max(best, Math.abs(dot));
    }
    maxSimilarity.push(best);
  }
  return { k: kk, threshold, count: maxSimilarity.filter((s) => s < threshold).length, maxSimilarity };
}
