import { assertMatrix, matmulTransposeA, type Matrix } from '../linalg/matrix.js';
import { svd } from '../linalg/svd.js';

/**
 * Normalised subspace similarity between two LoRA down-projections (paper §7.2, Fig. 3).
 * `a1` (in × r1) and `a2` (in × r2) are LoRA factors in rankwise layout A: [in, r], whose columns span the input
 * subspace. With U1, U2 their left singular vectors (the paper calls them right-singular vectors because its A is r × d):
 *   φ(i, j) = ‖U1[:, :i]ᵀ U2[:, :j]‖²_F / min(i, j),  i = 1..r1, j = 1..r2,
 * returned as an r1 × r2 matrix (row i−1, column j−1) with values in [0, 1]:
 * 1 when the top-i directions of one lie inside the top-j directions of the other, ~max(i, j)/in for random subspaces.
 */
export function subspaceSimilarity(a1: Matrix, a2: Matrix): Matrix {
  assertMatrix(a1, 'subspaceSimilarity a1');
  assertMatrix(a2, 'subspaceSimilarity a2');
  if (a1.rows !== a2.rows) {
    throw new RangeError(
      `subspaceSimilarity: A factors must share the input dimension (rows): got ${a1.rows}×${a1.cols} and ${a2.rows}×${a2.cols}; rankwise's A layout is [in, r]`,
    );
  }
  for (const [name, a] of [
    ['a1', a1],
    ['a2', a2],
  ] as const) {
    if (a.cols > a.rows)
      throw new RangeError(`subspaceSimilarity: ${name} has rank ${a.cols} > input dimension ${a.rows} (expected A: [in, r] with r ≤ in; pass the transpose?)`);
  }
  const u1 = svd(a1).u; // in × r1 (thin, since r1 ≤ in)
  const u2 = svd(a2).u;
  const g = matmulTransposeA(u1, u2); // r1 × r2: entry (a, b) = u1_a · u2_b
  return normalisedCumulative(g);
}

/** φ(i, j) = Σ_{a<i, b<j} g[a][b]² / min(i, j), by 2-D prefix sums; clamped to [0, 1] against roundoff. */
function normalisedCumulative(g: Matrix): Matrix {
  const { rows, cols } = g;
  const out = new Float64Array(rows * cols);
  const prefix = new Float64Array((rows + 1) * (cols + 1));
  const w = cols + 1;
  for (let i = 1; i <= rows; i++) {
    for (let j = 1; j <= cols; j++) {
      const x = g.data[(i - 1) * cols + (j - 1)];
      prefix[i * w + j] = x * x + prefix[(i - 1) * w + j] + prefix[i * w + j - 1] - prefix[(i - 1) * w + j - 1];
      out[(i - 1) * cols + (j - 1)] = Math.min(1, Math.max(0, prefix[i * w + j] / Math.min(i, j)));
    }
  }
  return { rows, cols, data: out };
}
