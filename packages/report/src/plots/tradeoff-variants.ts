import { directionText, metricTitle, shownValue } from '../grid/metrics.js';
import type { GridModel } from '../grid/model.js';
import { FULL_FINE_TUNING } from '../types.js';
import { CATEGORY_SHAPES, FULL_COLOR, STAR, categoryColor } from './palette.js';
import { paretoLayers } from './pareto-layer.js';
import type { PlotSpec } from './render.js';

interface VariantDatum {
  /** Colour: the variant ("full fine-tuning" for the corner). */
  variant: string;
  /** Shape: the placement. */
  placement: string;
  /** One line per (placement, variant). */
  line: string;
  kind: 'lora' | 'full';
  params: number;
  value: number;
  rankLabel: string;
}

/**
 * The trade-off plot of a grid with a variant axis: metric against trainable parameters (log x), one line per
 * (placement, variant) through its ranks, coloured by variant, marked by placement; full fine-tuning a black star.
 */
export function tradeoffByVariantSpec(model: GridModel): PlotSpec {
  const { info, result } = model;
  const variants = model.variants.filter((v): v is string => v !== null);
  const data: VariantDatum[] = [];
  for (const cell of result.cells) {
    const v = model.value(cell);
    if (v === null || cell.trainableParams <= 0) continue;
    const variant = cell.kind === 'full' ? FULL_FINE_TUNING : (cell.variant ?? '');
    data.push({
      variant,
      placement: cell.placement,
      line: `${cell.placement} · ${variant}`,
      kind: cell.kind,
      params: cell.trainableParams,
      value: shownValue(info, v),
      rankLabel: cell.kind === 'full' ? FULL_FINE_TUNING : `r=${cell.rank}`,
    });
  }
  const colorDomain = [...variants, ...(model.full ? [FULL_FINE_TUNING] : [])];
  const colorRange = colorDomain.map((s, i) => (s === FULL_FINE_TUNING ? FULL_COLOR : categoryColor(i)));
  const shapeDomain = [...model.placements, ...(model.full ? [FULL_FINE_TUNING] : [])];
  const shapeRange = shapeDomain.map((s, i) => (s === FULL_FINE_TUNING ? STAR : CATEGORY_SHAPES[i % CATEGORY_SHAPES.length]));
  const color = {
    field: 'variant',
    type: 'nominal' as const,
    scale: { domain: colorDomain, range: colorRange },
    legend: { title: 'variant (colour)', symbolSize: 120, orient: 'right' as const },
  };
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
      text: `${result.pipeline}: ${info.label} vs trainable parameters, by variant`,
      subtitle: `one line per placement (marker) and variant (colour) through ranks ${model.ranks.join(', ')} · ${model.full ? 'black star: full fine-tuning · ' : ''}dashed: Pareto front · ${directionText(result.higherIsBetter)}`,
    },
    width: 600,
    height: 380,
    data: { values: data as unknown as Record<string, unknown>[] },
    encoding: { x, y },
    layer: [
      ...paretoLayers(model),
      {
        transform: [{ filter: "datum.kind === 'lora'" }],
        mark: { type: 'line', strokeWidth: 1.8, opacity: 0.85 },
        encoding: { color, detail: { field: 'line', type: 'nominal' }, order: { field: 'params', type: 'quantitative' } },
      },
      {
        mark: { type: 'point', filled: true, opacity: 1, stroke: 'white', strokeWidth: 0.8 },
        encoding: {
          color,
          shape: {
            field: 'placement',
            type: 'nominal',
            scale: { domain: shapeDomain, range: shapeRange },
            legend: { title: 'placement (marker)', symbolSize: 120, orient: 'right' as const },
          },
          size: { condition: { test: "datum.kind === 'full'", value: 380 }, value: 60 },
        },
      },
      {
        transform: [{ filter: "datum.kind === 'full'" }],
        mark: { type: 'text', fontSize: 12, fontWeight: 'bold', align: 'right', dx: -12, dy: 18 },
        encoding: { text: { field: 'rankLabel' } },
      },
    ],
  } as PlotSpec;
}
