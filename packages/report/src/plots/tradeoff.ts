import { directionText, metricTitle, shownValue } from '../grid/metrics.js';
import { gridModel, type GridModel } from '../grid/model.js';
import { FULL_FINE_TUNING, type GridResult } from '../types.js';
import { CATEGORY_SHAPES, FULL_COLOR, STAR, categoryColor } from './palette.js';
import { renderSvg, type PlotSpec } from './render.js';
import { paretoLayers } from './pareto-layer.js';
import { tradeoffByVariantSpec } from './tradeoff-variants.js';

interface TradeoffDatum {
  series: string;
  kind: 'lora' | 'full';
  params: number;
  value: number;
  rankLabel: string;
  /** Rank labels alternate above/below from the best series down, so neighbouring lines keep them apart. */
  above: boolean;
}

/**
 * The metric against trainable parameters (log x): one line with points per placement, ordered by parameters
 * (= by rank), each point labelled with its rank; full fine-tuning is a black star labelled "full fine-tuning".
 */
export function tradeoffSvg(result: GridResult): string {
  return renderSvg(tradeoffSpec(gridModel(result)));
}

export function tradeoffSpec(model: GridModel): PlotSpec {
  if (model.variants[0] !== null) return tradeoffByVariantSpec(model);
  const { info, result } = model;
  const side = labelSides(model);
  const data: TradeoffDatum[] = [];
  for (const cell of result.cells) {
    const v = model.value(cell);
    if (v === null || cell.trainableParams <= 0) continue;
    data.push({
      series: cell.kind === 'full' ? FULL_FINE_TUNING : cell.placement,
      kind: cell.kind,
      params: cell.trainableParams,
      value: shownValue(info, v),
      rankLabel: cell.kind === 'full' ? FULL_FINE_TUNING : `r=${cell.rank}`,
      above: side.get(cell.placement) ?? true,
    });
  }
  const series = [...model.placements, ...(model.full ? [FULL_FINE_TUNING] : [])];
  const colors = series.map((s, i) => (s === FULL_FINE_TUNING ? FULL_COLOR : categoryColor(i)));
  const shapes = series.map((s, i) => (s === FULL_FINE_TUNING ? STAR : CATEGORY_SHAPES[i % CATEGORY_SHAPES.length]));
  const legend = { title: 'placement (adapted weights)', symbolSize: 120, orient: 'right' as const };
  const x = {
    field: 'params',
    type: 'quantitative' as const,
    scale: { type: 'log' as const, nice: false, padding: 24 },
    axis: { title: 'trainable parameters (log scale)', format: '~s', grid: true, tickCount: 8 },
  };
  const y = {
    field: 'value',
    type: 'quantitative' as const,
    scale: { zero: false, nice: true, padding: 12 },
    axis: { title: `${metricTitle(info)} — ${directionText(result.higherIsBetter)}`, format: info.axisFormat, grid: true },
  };
  return {
    title: {
      text: `${result.pipeline}: ${info.label} vs trainable parameters`,
      subtitle: `one line per placement through ranks ${model.ranks.join(', ')} (labels r=…, in the line's colour) · ${model.full ? 'black star: full fine-tuning · ' : ''}dashed: Pareto front · ${directionText(result.higherIsBetter)}`,
    },
    width: 600,
    height: 360,
    data: { values: data as unknown as Record<string, unknown>[] },
    encoding: { x, y },
    layer: [
      ...paretoLayers(model),
      {
        transform: [{ filter: "datum.kind === 'lora'" }],
        mark: { type: 'line', strokeWidth: 2 },
        encoding: {
          color: { field: 'series', type: 'nominal', scale: { domain: series, range: colors }, legend },
          order: { field: 'params', type: 'quantitative' },
        },
      },
      {
        mark: { type: 'point', filled: true, opacity: 1, stroke: 'white', strokeWidth: 0.8 },
        encoding: {
          color: { field: 'series', type: 'nominal', scale: { domain: series, range: colors }, legend },
          shape: { field: 'series', type: 'nominal', scale: { domain: series, range: shapes }, legend },
          size: { condition: { test: "datum.kind === 'full'", value: 380 }, value: 70 },
        },
      },
      {
        transform: [{ filter: "datum.kind === 'lora' && datum.above" }],
        mark: { type: 'text', fontSize: 10, fontWeight: 'bold', dy: -11 },
        encoding: { text: { field: 'rankLabel' }, color: { field: 'series', type: 'nominal', scale: { domain: series, range: colors } } },
      },
      {
        transform: [{ filter: "datum.kind === 'lora' && !datum.above" }],
        mark: { type: 'text', fontSize: 10, fontWeight: 'bold', dy: 13 },
        encoding: { text: { field: 'rankLabel' }, color: { field: 'series', type: 'nominal', scale: { domain: series, range: colors } } },
      },
      {
        transform: [{ filter: "datum.kind === 'full'" }],
        mark: { type: 'text', fontSize: 12, fontWeight: 'bold', align: 'right', dx: -12, dy: 18 },
        encoding: { text: { field: 'rankLabel' } },
      },
    ],
  } as PlotSpec;
}

/** Placements ordered by their mean metric, top-drawn first; alternate ones get their rank labels above the points. */
function labelSides(model: GridModel): Map<string, boolean> {
  const mean = (p: string): number => {
    const vs = model.ranks.flatMap((r) => {
      const c = model.at(p, r);
      const v = c ? model.value(c) : null;
      return v === null ? [] : [v];
    });
    return vs.length ? vs.reduce((a, b) => a + b, 0) / vs.length : 0;
  };
  // Higher values are drawn higher whatever the metric's direction: the top-drawn line gets its labels above.
  const order = [...model.placements].sort((a, b) => mean(b) - mean(a));
  return new Map(order.map((p, i) => [p, i % 2 === 0]));
}
