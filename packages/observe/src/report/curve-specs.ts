import type { PlotSpec } from '@rankwise/report';
import type { RunData } from './run-data.js';

/** The curves a report and the dashboard draw: loss (train and evaluation), learning rate, gradient norm. */
export interface CurveSpecs {
  loss: PlotSpec | null;
  lr: PlotSpec | null;
  gradNorm: PlotSpec | null;
}

type Row = { run: string; series: string; step: number; value: number };

function lineSpec(title: string, yTitle: string, rows: Row[], overlay: boolean, options: { log?: boolean; width?: number } = {}): PlotSpec | null {
  if (rows.length === 0) return null;
  const runs = [...new Set(rows.map((r) => r.run))];
  const series = [...new Set(rows.map((r) => r.series))];
  const color = overlay
    ? { field: 'run', type: 'nominal' as const, scale: { domain: runs }, legend: { title: 'run', orient: 'bottom' as const, columns: 1 } }
    : {
        field: 'series',
        type: 'nominal' as const,
        scale: { domain: series },
        legend: series.length > 1 ? { title: null, orient: 'top-right' as const } : null,
      };
  const x = { field: 'step', type: 'quantitative' as const, axis: { title: 'step', grid: true } };
  const y = {
    field: 'value',
    type: 'quantitative' as const,
    scale: options.log ? { type: 'log' as const } : { zero: false },
    axis: { title: yTitle, grid: true },
  };
  const line = rows.filter((r) => r.series !== 'eval');
  const points = rows.filter((r) => r.series === 'eval');
  return {
    title: { text: title },
    width: options.width ?? 460,
    height: 240,
    layer: [
      ...(line.length
        ? [
            {
              data: { values: line },
              mark: { type: 'line' as const, strokeWidth: 1.8, point: line.length < 30 },
              encoding: { x, y, color, detail: { field: 'series', type: 'nominal' as const } },
            },
          ]
        : []),
      ...(points.length
        ? [{ data: { values: points }, mark: { type: 'point' as const, filled: true, size: 55, shape: 'diamond' }, encoding: { x, y, color } }]
        : []),
    ],
  } as PlotSpec;
}

/** Vega-lite specs of the runs' curves (several runs: one colour per run, overlaid). */
export function curveSpecs(runs: readonly RunData[]): CurveSpecs {
  const overlay = runs.length > 1;
  const rows = (pick: (p: RunData['curves'][number]) => number | undefined, kind: 'train' | 'eval') =>
    runs.flatMap((run) =>
      run.curves
        .filter((p) => p.kind === kind)
        .flatMap((p) => {
          const v = pick(p);
          return v === undefined ? [] : [{ run: run.name, series: kind, step: p.step, value: v }];
        }),
    );
  const loss = [...rows((p) => p.loss, 'train'), ...rows((p) => p.loss, 'eval')];
  const positive = (rs: Row[]) => rs.length > 0 && rs.every((r) => r.value > 0);
  const gradNorm = rows((p) => p.gradNorm, 'train');
  return {
    loss: lineSpec(overlay ? 'Loss (lines: training, diamonds: evaluation)' : 'Loss', 'loss', loss, overlay),
    lr: lineSpec(
      'Learning rate',
      'learning rate',
      rows((p) => p.lr, 'train'),
      overlay,
    ),
    gradNorm: lineSpec('Gradient norm (mean over each log interval)', 'gradient norm', gradNorm, overlay, { log: positive(gradNorm) }),
  };
}
