/**
 * Realistic fixture grids: digits (MLP 784-256-256-10, accuracy, higher is better, 3 placements × 6 ranks + full
 * fine-tuning) and a char language model (bits per char, lower is better, one cell not run), plus analyses computed
 * with the package's own functions on small synthetic weights. Seeded; no randomness between runs.
 */
import { analyzeSite, compareSubspaces, loraDelta, type GridAnalyses, type GridCell, type GridResult, type Matrix } from '@rankwise/report';

export function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

/** Standard normal by Box–Muller. */
export function gaussian(rand: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

export function randomMatrix(rows: number, cols: number, seed: number, std = 1): Matrix {
  const g = gaussian(seeded(seed));
  return { rows, cols, data: Float64Array.from({ length: rows * cols }, () => g() * std) };
}

const DIGITS_TOTAL = 784 * 256 + 256 + 256 * 256 + 256 + 256 * 10 + 10; // 269,322
const DIGITS_LAYERS = {
  'first layer': [[784, 256]],
  'last layer': [[256, 10]],
  'all layers': [
    [784, 256],
    [256, 256],
    [256, 10],
  ],
} as const;
const DIGITS_ACCURACY: Record<string, number[]> = {
  'first layer': [0.6213, 0.7408, 0.8622, 0.9187, 0.9446, 0.9529],
  'last layer': [0.2987, 0.3311, 0.3604, 0.3702, 0.3719, 0.3723],
  'all layers': [0.7034, 0.8321, 0.9105, 0.9452, 0.9581, 0.9617],
};
export const DIGITS_RANKS = [1, 2, 4, 8, 16, 32];

function cell(
  partial: Partial<GridCell> & Pick<GridCell, 'kind' | 'rank' | 'placement' | 'trainableParams' | 'totalParams' | 'metrics'>,
  index: number,
): GridCell {
  return {
    id: `c${index.toString(16).padStart(8, '0')}`,
    alpha: partial.rank === null ? null : 2 * (partial.rank as number),
    percentOfFull: (100 * partial.trainableParams) / partial.totalParams,
    evaluations: [{ index: 5, stage: 'evaluate', data: 'digits/test/rotate90', metrics: partial.metrics }],
    durationMs: 4000 + 137 * index,
    runDir: `cells/${index}`,
    cached: index % 5 === 0,
    ...partial,
  };
}

export function digitsGrid(withAnalyses = false): GridResult {
  const cells: GridCell[] = [];
  for (const [placement, layers] of Object.entries(DIGITS_LAYERS)) {
    DIGITS_RANKS.forEach((rank, i) => {
      const trainableParams = layers.reduce((n, [fanIn, fanOut]) => n + rank * (fanIn + fanOut), 0);
      const accuracy = DIGITS_ACCURACY[placement][i];
      cells.push(
        cell(
          { kind: 'lora', rank, placement, trainableParams, totalParams: DIGITS_TOTAL, metrics: { accuracy, loss: -Math.log(accuracy) * 0.9 } },
          cells.length,
        ),
      );
    });
  }
  cells.push(
    cell(
      {
        kind: 'full',
        rank: null,
        placement: 'full fine-tuning',
        trainableParams: DIGITS_TOTAL,
        totalParams: DIGITS_TOTAL,
        metrics: { accuracy: 0.9655, loss: 0.118 },
      },
      cells.length,
    ),
  );
  return {
    pipeline: 'digits-rotate90-grid',
    metric: 'accuracy',
    higherIsBetter: true,
    ranks: DIGITS_RANKS,
    placements: Object.keys(DIGITS_LAYERS),
    cells,
    createdAt: '2026-11-28T18:00:00.000Z',
    backend: 'tensorflow',
    ...(withAnalyses ? { analyses: syntheticAnalyses() } : {}),
  };
}

export function charLmGrid(): GridResult {
  const placements = ['attention', 'mlp', 'all layers'];
  const ranks = [2, 4, 8, 16];
  const bpc: Record<string, number[]> = {
    attention: [2.412, 2.351, 2.307, 2.289],
    mlp: [2.398, 2.322, 2.268, 2.243],
    'all layers': [2.331, 2.254, 2.196, 2.171],
  };
  const perSite: Record<string, number> = { attention: 4 * 2 * 128, mlp: 2 * (128 + 512), 'all layers': 4 * 2 * 128 + 2 * (128 + 512) };
  const total = 812_160;
  const cells: GridCell[] = [];
  for (const placement of placements) {
    ranks.forEach((rank, i) => {
      if (placement === 'mlp' && rank === 16) return; // not run: the grid may be incomplete
      const bitsPerChar = bpc[placement][i];
      cells.push(
        cell(
          {
            kind: 'lora',
            rank,
            placement,
            trainableParams: rank * perSite[placement],
            totalParams: total,
            metrics: { bitsPerChar, perplexity: 2 ** bitsPerChar, loss: bitsPerChar * Math.LN2 },
          },
          cells.length,
        ),
      );
    });
  }
  cells.push(
    cell(
      {
        kind: 'full',
        rank: null,
        placement: 'full fine-tuning',
        trainableParams: total,
        totalParams: total,
        metrics: { bitsPerChar: 2.139, perplexity: 2 ** 2.139, loss: 2.139 * Math.LN2 },
      },
      cells.length,
    ),
  );
  return {
    pipeline: 'sotu-char-lm-grid',
    metric: 'bitsPerChar',
    higherIsBetter: false,
    ranks,
    placements,
    cells,
    createdAt: '2026-11-28T18:30:00.000Z',
    backend: 'webgpu',
  };
}

/**
 * Analyses of layer 0 ([64, 32] here, a scaled-down 784×256): LoRA ΔW = (α/r)·A·B whose top directions are shared
 * across ranks (as the paper finds), a full fine-tuning ΔW with a decaying full-rank spectrum, and φ between ranks.
 */
export function syntheticAnalyses(): GridAnalyses {
  const [inDim, outDim] = [64, 32];
  const w = randomMatrix(inDim, outDim, 99, 0.2);
  const shared = randomMatrix(inDim, 32, 5);
  // Column c of every A shares a direction whose weight decays with c, plus run-specific noise: the top directions
  // agree across ranks (φ near 1 in the first row/column), the tail does not.
  const aFor = (r: number, seed: number): Matrix => {
    const noise = randomMatrix(inDim, r, seed, 0.5);
    return {
      rows: inDim,
      cols: r,
      data: Float64Array.from({ length: inDim * r }, (_, k) => 3 * 0.55 ** (k % r) * shared.data[Math.floor(k / r) * 32 + (k % r)] + noise.data[k]),
    };
  };
  const sites = [];
  const subspace = [];
  for (const placement of ['first layer', 'all layers']) {
    const factors = new Map<number, Matrix>();
    for (const r of [1, 2, 4, 8, 16, 32]) {
      const a = aFor(r, 1000 * r + placement.length);
      factors.set(r, a);
      const b = randomMatrix(r, outDim, 7 * r + placement.length, 0.02);
      sites.push(analyzeSite({ site: 'layers.0', placement, rank: r, delta: loraDelta(a, b, 2 / Math.sqrt(r)), w }));
    }
    subspace.push(compareSubspaces('layers.0', placement, factors.get(8) as Matrix, factors.get(32) as Matrix));
    if (placement === 'all layers') subspace.push(compareSubspaces('layers.0', placement, factors.get(4) as Matrix, factors.get(8) as Matrix));
  }
  const decay = randomMatrix(inDim, outDim, 3);
  for (let i = 0; i < inDim; i++) for (let j = 0; j < outDim; j++) decay.data[i * outDim + j] *= 0.1 * Math.exp(-j / 4);
  sites.push(analyzeSite({ site: 'layers.0', placement: 'full fine-tuning', rank: null, delta: decay, w, r: 8 }));
  return { sites, subspace };
}
