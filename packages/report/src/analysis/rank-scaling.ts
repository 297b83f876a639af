import { formatSignificant } from '../grid/metrics.js';
import type { GridModel } from '../grid/model.js';

/** Final training loss against rank for one (placement, variant) series of LoRA cells. */
export interface ScalingSeries {
  placement: string;
  variant: string | null;
  /** α/√r (rsLoRA) or α/r. */
  rslora: boolean;
  points: Array<{ rank: number; loss: number }>;
}

export interface RankScaling {
  series: ScalingSeries[];
  /** Per series: loss change from the smallest to the largest rank, and from the middle rank on (negative: rank helps). */
  changes: Array<{ series: ScalingSeries; total: number; upperHalf: number }>;
  /** One sentence comparing α/r with α/√r; null unless the grid has both. */
  sentence: string | null;
}

/**
 * Rank under α/r vs α/√r (Kalajdzievski 2023, rsLoRA): with α/r the update's scale shrinks as 1/r, so gradients of
 * high-rank adapters collapse and extra rank stops lowering the loss; α/√r keeps it rank-stable, so loss keeps
 * falling with rank. Here: final training loss against rank per series, and how much the upper half of the ranks
 * still lowers it.
 */
export function rankScaling(model: GridModel): RankScaling {
  const series: ScalingSeries[] = [];
  for (const variant of model.variants) {
    for (const placement of model.placements) {
      const cells = model.ranks.flatMap((rank) => {
        const c = model.at(placement, rank, variant);
        return c && Number.isFinite(c.finalLoss) ? [{ rank, loss: c.finalLoss as number, rslora: c.rslora === true }] : [];
      });
      if (cells.length < 2) continue;
      series.push({ placement, variant, rslora: cells[0].rslora, points: cells.map(({ rank, loss }) => ({ rank, loss })) });
    }
  }
  const changes = series.map((s) => {
    const pts = [...s.points].sort((a, b) => a.rank - b.rank);
    const mid = pts[Math.floor((pts.length - 1) / 2)];
    const last = pts[pts.length - 1];
    return { series: s, total: last.loss - pts[0].loss, upperHalf: last.loss - mid.loss };
  });
  const describe = (rs: boolean): string | null => {
    const group = changes.filter((c) => c.series.rslora === rs);
    if (group.length === 0) return null;
    const mean = (f: (c: (typeof group)[number]) => number) => group.reduce((t, c) => t + f(c), 0) / group.length;
    const pts = group[0].series.points;
    const [r0, r1] = [Math.min(...pts.map((p) => p.rank)), Math.max(...pts.map((p) => p.rank))];
    const mid = [...pts].sort((a, b) => a.rank - b.rank)[Math.floor((pts.length - 1) / 2)].rank;
    return `with ${rs ? 'α/√r' : 'α/r'} the final training loss changes by ${signed(mean((c) => c.total))} from r = ${r0} to r = ${r1}, ${signed(mean((c) => c.upperHalf))} of it from r = ${mid} on`;
  };
  const plain = describe(false);
  const rs = describe(true);
  const sentence = plain && rs ? `Averaged over ${changes.length} series: ${plain}; ${rs} (negative: higher rank still helps).` : null;
  return { series, changes, sentence };
}

function signed(x: number): string {
  return `${x > 0 ? '+' : x < 0 ? '−' : '±'}${formatSignificant(Math.abs(x), 3)}`;
}
