import { forgettingFrontier, forgettingPoints } from '../analysis/forgetting.js';
import { directionText, metricTitle, shownValue } from '../grid/metrics.js';
import type { GridModel } from '../grid/model.js';
import { FULL_FINE_TUNING } from '../types.js';
import { FULL_COLOR, STAR, CATEGORY_SHAPES, categoryColor } from './palette.js';
import type { PlotSpec } from './render.js';

/**
 * Learning vs forgetting: one point per cell, x = the grid metric on the target task, y = on the retained task,
 * coloured by variant (or placement), marked by placement, labelled with the rank; full fine-tuning a black star;
 * the frontier (cells no other cell beats on both) dashed. Null when the grid has no retained evaluation.
 */
export function forgettingSpec(model: GridModel): PlotSpec | null {
  const { info, result } = model;
  const points = forgettingPoints(model);
  if (points.length === 0) return null;
  const byVariant = model.variants[0] !== null;
  const groupOf = (c: (typeof points)[number]['cell']) => (c.kind === 'full' ? FULL_FINE_TUNING : byVariant ? (c.variant ?? '') : c.placement);
  const groups = [...(byVariant ? (model.variants as string[]) : model.placements), ...(model.full ? [FULL_FINE_TUNING] : [])];
  const colors = groups.map((g, i) => (g === FULL_FINE_TUNING ? FULL_COLOR : categoryColor(i)));
  const shapeDomain = [...model.placements, ...(model.full ? [FULL_FINE_TUNING] : [])];
  const shapes = shapeDomain.map((s, i) => (s === FULL_FINE_TUNING ? STAR : CATEGORY_SHAPES[i % CATEGORY_SHAPES.length]));
  const data = points.map((p) => ({
    group: groupOf(p.cell),
    placement: p.cell.placement,
    kind: p.cell.kind,
    learned: shownValue(info, p.learned),
    retained: shownValue(info, p.retained),
    label: p.cell.kind === 'full' ? 'full' : `r=${p.cell.rank}`,
  }));
  const frontier = forgettingFrontier(points, result.higherIsBetter).map((p) => ({
    learned: shownValue(info, p.learned),
    retained: shownValue(info, p.retained),
  }));
  const direction = directionText(result.higherIsBetter);
  const evaluation =
    model.result.cells.find((c) => c.evaluations.length)?.evaluations.find((e) => e.label !== undefined && e.label !== result.retained)?.label ?? 'target';
  return {
    title: {
      text: `${result.pipeline}: learning vs forgetting`,
      subtitle: `${metricTitle(info)} on the target task (x) and on the retained task "${result.retained}" (y), ${direction} on both · dashed: cells no other cell beats on both · black star: full fine-tuning`,
    },
    width: 520,
    height: 380,
    layer: [
      ...(frontier.length > 1
        ? [
            {
              data: { values: frontier },
              mark: { type: 'line' as const, stroke: '#777', strokeDash: [5, 4], strokeWidth: 1.5 },
              encoding: {
                x: { field: 'learned', type: 'quantitative' as const },
                y: { field: 'retained', type: 'quantitative' as const },
                order: { field: 'learned', type: 'quantitative' as const },
              },
            },
          ]
        : []),
      {
        data: { values: data },
        mark: { type: 'point', filled: true, opacity: 1, stroke: 'white', strokeWidth: 0.8 },
        encoding: {
          x: {
            field: 'learned',
            type: 'quantitative',
            scale: { zero: false, nice: true, padding: 16, reverse: !result.higherIsBetter },
            axis: { title: `${metricTitle(info)}, target task (${String(evaluation)}) — better →`, format: info.axisFormat, grid: true },
          },
          y: {
            field: 'retained',
            type: 'quantitative',
            scale: { zero: false, nice: true, padding: 16, reverse: !result.higherIsBetter },
            axis: { title: `${metricTitle(info)}, retained task (${result.retained}) — better ↑`, format: info.axisFormat, grid: true },
          },
          color: {
            field: 'group',
            type: 'nominal',
            scale: { domain: groups, range: colors },
            legend: { title: byVariant ? 'variant' : 'placement', orient: 'right' },
          },
          shape: {
            field: 'placement',
            type: 'nominal',
            scale: { domain: shapeDomain, range: shapes },
            legend: byVariant ? { title: 'placement', orient: 'right' } : null,
          },
          size: { condition: { test: "datum.kind === 'full'", value: 380 }, value: 70 },
        },
      },
      {
        data: { values: data },
        mark: { type: 'text', fontSize: 10, dy: -11 },
        encoding: {
          x: { field: 'learned', type: 'quantitative' },
          y: { field: 'retained', type: 'quantitative' },
          text: { field: 'label' },
          color: { field: 'group', type: 'nominal', scale: { domain: groups, range: colors } },
        },
      },
    ],
  } as PlotSpec;
}
