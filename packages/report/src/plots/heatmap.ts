import { formatCompact, formatMetric, formatPercent, metricTitle, directionText, shownValue } from '../grid/metrics.js';
import { gridModel, type GridModel } from '../grid/model.js';
import { FULL_FINE_TUNING, type GridCell, type GridResult } from '../types.js';
import { renderSvg, type PlotSpec } from './render.js';

export const FULL_RANK_LABEL = 'full';

interface HeatmapDatum {
  x: string;
  y: string;
  kind: 'lora' | 'full' | 'missing';
  value: number | null;
  label: string;
  sub: string;
  /** Text on a dark fill: drawn white. */
  dark: boolean;
  best: boolean;
}

/**
 * Heatmap of the grid metric: x = LoRA rank (in result.ranks order), y = placement, darker = better (legend says
 * which direction), each cell printing its value and its trainable parameters (share of the base model). Full
 * fine-tuning is its own row "full fine-tuning" at x = "full", outlined in black; the best cell is outlined in orange.
 */
export function heatmapSvg(result: GridResult): string {
  return renderSvg(heatmapSpec(gridModel(result)));
}

/** `variant`: which variant's cells to draw (one heatmap per variant; the colour scale spans every variant's cells). */
export function heatmapSpec(model: GridModel, variant: string | null = null): PlotSpec {
  const { info, result } = model;
  const { data, lo, hi } = heatmapData(model, variant);
  const xDomain = [...model.ranks.map(String), ...(model.full ? [FULL_RANK_LABEL] : [])];
  const yDomain = [...model.placements, ...(model.full ? [FULL_FINE_TUNING] : [])];
  const direction = directionText(result.higherIsBetter);
  const x = {
    field: 'x',
    type: 'ordinal' as const,
    sort: xDomain,
    scale: { domain: xDomain },
    axis: { title: 'LoRA rank r (full = full fine-tuning, all weights trained)', labelAngle: 0, labelFontSize: 12 },
  };
  const y = {
    field: 'y',
    type: 'nominal' as const,
    sort: yDomain,
    scale: { domain: yDomain },
    axis: { title: 'adapted weights (placement)', labelFontSize: 12, labelLimit: 220 },
  };
  const outline = (test: string, color: string, width: number) => ({
    transform: [{ filter: test }],
    mark: { type: 'rect' as const, fill: null, stroke: color, strokeWidth: width, strokeJoin: 'miter' as const },
  });
  return {
    title: {
      text: `${result.pipeline}: ${info.label} by LoRA rank and placement${variant === null ? '' : ` — ${variant}`}`,
      subtitle: [
        `colour: ${metricTitle(info)}, ${direction} — darker is better · cell: value, trainable parameters (share of the base model)`,
        'black outline: full fine-tuning · orange outline: best cell',
      ],
    },
    width: { step: 84 },
    height: { step: 46 },
    data: { values: data as unknown as Record<string, unknown>[] },
    encoding: { x, y },
    layer: [
      { transform: [{ filter: "datum.kind === 'missing'" }], mark: { type: 'rect', fill: '#f0f0f0', stroke: 'white', strokeWidth: 2 } },
      {
        transform: [{ filter: 'datum.value !== null' }],
        mark: { type: 'rect', stroke: 'white', strokeWidth: 2 },
        encoding: {
          color: {
            field: 'value',
            type: 'quantitative',
            scale: { scheme: 'blues', reverse: !result.higherIsBetter, zero: false, nice: false, domain: [lo, hi] },
            legend: { title: [metricTitle(info), `${direction} (darker)`], format: info.format, gradientLength: 160, direction: 'vertical' },
          },
        },
      },
      outline("datum.kind === 'full'", 'black', 3),
      outline('datum.best', '#ff7f0e', 3),
      {
        mark: { type: 'text', fontSize: 13, fontWeight: 'bold', dy: -7 },
        encoding: { text: { field: 'label' }, color: { condition: { test: 'datum.dark', value: 'white' }, value: '#111' } },
      },
      {
        mark: { type: 'text', fontSize: 9, dy: 9 },
        encoding: { text: { field: 'sub' }, color: { condition: { test: 'datum.dark', value: '#e8eef8' }, value: '#444' } },
      },
    ],
    config: { axis: { domain: false, ticks: false } },
  } as PlotSpec;
}

/** The cells to draw, and the smallest and largest value shown (the colour scale's domain). */
function heatmapData(model: GridModel, variant: string | null): { data: HeatmapDatum[]; lo: number; hi: number } {
  const { info, result } = model;
  const shown = (c: GridCell): number | null => {
    const v = model.value(c);
    return v === null ? null : shownValue(info, v);
  };
  const all = result.cells.flatMap((c) => (shown(c) === null ? [] : [shown(c) as number]));
  const lo = Math.min(...all);
  const hi = Math.max(...all);
  const goodness = (v: number): number => (hi === lo ? 1 : result.higherIsBetter ? (v - lo) / (hi - lo) : (hi - v) / (hi - lo));
  const datum = (x: string, y: string, cell: GridCell | undefined): HeatmapDatum => {
    if (!cell) return { x, y, kind: 'missing', value: null, label: 'not run', sub: '', dark: false, best: false };
    const v = shown(cell);
    const raw = model.value(cell);
    return {
      x,
      y,
      kind: v === null ? 'missing' : cell.kind,
      value: v,
      label: raw === null ? 'no value' : formatMetric(info, raw),
      sub: `${formatCompact(cell.trainableParams)} · ${formatPercent(cell.percentOfFull)}`,
      dark: v !== null && goodness(v) > 0.55,
      best: cell === model.best,
    };
  };
  const data: HeatmapDatum[] = [];
  for (const placement of model.placements) for (const rank of model.ranks) data.push(datum(String(rank), placement, model.at(placement, rank, variant)));
  if (model.full) data.push(datum(FULL_RANK_LABEL, FULL_FINE_TUNING, model.full));
  return { data, lo, hi };
}
