import { rankScaling } from '../analysis/rank-scaling.js';
import type { GridModel } from '../grid/model.js';
import { categoryColor } from './palette.js';
import type { PlotSpec } from './render.js';

/** Final training loss against rank (log₂ x), one line per series: colour = variant (or placement), dashed = α/√r. Null unless the grid has both scalings. */
export function rankScalingSpec(model: GridModel): PlotSpec | null {
  const { series, sentence } = rankScaling(model);
  if (sentence === null) return null;
  const name = (s: (typeof series)[number]) => (s.variant === null ? s.placement : model.placements.length > 1 ? `${s.variant} · ${s.placement}` : s.variant);
  const names = [...new Set(series.map(name))];
  const data = series.flatMap((s) => s.points.map((p) => ({ series: name(s), scaling: s.rslora ? 'α/√r (rsLoRA)' : 'α/r', rank: p.rank, loss: p.loss })));
  return {
    title: {
      text: `${model.result.pipeline}: final training loss vs rank under α/r and α/√r`,
      subtitle: 'solid: α/r · dashed: α/√r (rsLoRA, Kalajdzievski 2023) · lower is better; a line still falling at the right means higher rank still helps',
    },
    width: 520,
    height: 320,
    data: { values: data },
    mark: { type: 'line', point: true, strokeWidth: 2 },
    encoding: {
      x: { field: 'rank', type: 'quantitative', scale: { type: 'log', base: 2 }, axis: { title: 'LoRA rank r (log₂)', values: model.ranks, format: 'd' } },
      y: {
        field: 'loss',
        type: 'quantitative',
        scale: { zero: false, nice: true },
        axis: { title: 'final training loss (nats) — lower is better', grid: true },
      },
      color: { field: 'series', type: 'nominal', scale: { domain: names, range: names.map((_, i) => categoryColor(i)) }, legend: { title: 'series' } },
      strokeDash: {
        field: 'scaling',
        type: 'nominal',
        scale: {
          domain: ['α/r', 'α/√r (rsLoRA)'],
          range: [
            [1, 0],
            [6, 3],
          ],
        },
        legend: { title: 'scaling' },
      },
      detail: { field: 'series', type: 'nominal' },
    },
  } as PlotSpec;
}
