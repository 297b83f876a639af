import type { Matrix } from '../linalg/matrix.js';
import { toRows } from '../linalg/matrix.js';
import { subspaceSimilarity } from './subspace.js';

/** splitmix32 + Box–Muller: standard normals from a seed (the report has no other randomness). */
function normals(seed: number): () => number {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return ((z ^ (z >>> 16)) >>> 0) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
}

function gaussianMatrix(rows: number, cols: number, draw: () => number): Matrix {
  return { rows, cols, data: Float64Array.from({ length: rows * cols }, draw) };
}

/**
 * φ(i, j) for random factors of the same shapes as two A factors ([in, r1], [in, r2]), averaged over `trials` seeded
 * Gaussian pairs: the chance level the LoRA paper compares its Fig. 3 against (E φ(i, j) = max(i, j) / in for
 * independent uniformly random subspaces). Overlap above this is learned, not a property of the dimensions.
 */
export function chanceSubspaceSimilarity(inFeatures: number, r1: number, r2: number, trials = 4, seed = 1): number[][] {
  if (!Number.isInteger(trials) || trials < 1) throw new RangeError(`chanceSubspaceSimilarity: trials = ${trials} must be a positive integer`);
  const draw = normals(seed);
  const sum = Array.from({ length: r1 }, () => new Array<number>(r2).fill(0));
  for (let t = 0; t < trials; t++) {
    const phi = toRows(subspaceSimilarity(gaussianMatrix(inFeatures, r1, draw), gaussianMatrix(inFeatures, r2, draw)));
    for (let i = 0; i < r1; i++) for (let j = 0; j < r2; j++) sum[i][j] += phi[i][j] / trials;
  }
  return sum;
}
