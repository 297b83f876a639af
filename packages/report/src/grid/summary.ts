import { FULL_FINE_TUNING, type GridAnalyses } from '../types.js';
import { formatInteger, formatMetric, formatPercent, formatSignificant, metricTitle } from './metrics.js';
import type { GridModel } from './model.js';

/** One-line facts about the run: cells, reuse, training time, best cell. */
export function gridFacts(model: GridModel): { cells: string; cached: string; duration: string; best: string; totalParams: string } {
  const { result, info } = model;
  const cached = result.cells.filter((c) => c.cached).length;
  const ms = result.cells.reduce((t, c) => t + c.durationMs, 0);
  const best = model.best;
  const bestValue = best ? model.value(best) : null;
  return {
    cells: `${result.cells.length} cells (${model.placements.length} placements × ${model.ranks.length} ranks${model.variants[0] !== null ? ` × ${model.variants.length} variants` : ''}${model.full ? ' + full fine-tuning' : ''}${missingCount(model) ? `, ${missingCount(model)} not run` : ''})`,
    cached: `${cached} reused from an earlier run`,
    duration: formatDuration(ms),
    best:
      best && bestValue !== null
        ? `${best.kind === 'full' ? FULL_FINE_TUNING : `${best.placement}, r = ${best.rank}`}: ${formatMetric(info, bestValue)}${info.unit ? ` ${info.unit}` : ''}`
        : 'none',
    totalParams: formatInteger(result.cells[0].totalParams),
  };
}

export function missingCount(model: GridModel): number {
  let n = 0;
  for (const v of model.variants) for (const p of model.placements) for (const r of model.ranks) if (!model.at(p, r, v)) n++;
  return n;
}

export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** Rows of the spectra table (shared by Markdown and HTML). */
export interface SpectrumRow {
  site: string;
  placement: string;
  rank: string;
  effectiveRank: string;
  topShare: string;
  amplification: string;
  frobenius: string;
  sigma1: string;
  intruders: string;
}

export function spectrumRows(analyses: GridAnalyses): SpectrumRow[] {
  return analyses.sites.map((s) => ({
    site: s.site,
    placement: s.variant ? `${s.placement} · ${s.variant}` : s.placement,
    rank: s.rank === null ? 'full' : String(s.rank),
    effectiveRank: s.spectrum.effectiveRank.toFixed(2),
    topShare: s.spectrum.topShare === null ? '—' : `${(100 * s.spectrum.topShare).toFixed(1)} %`,
    amplification: s.amplification === null ? '—' : Number.isFinite(s.amplification.factor) ? s.amplification.factor.toFixed(1) : '∞',
    frobenius: formatSignificant(s.spectrum.frobenius, 4),
    sigma1: formatSignificant(s.spectrum.singularValues[0] ?? 0, 4),
    intruders: s.intruders ? `${s.intruders.count} / ${s.intruders.k}` : '—',
  }));
}

export const SPECTRUM_COLUMNS: Array<[keyof SpectrumRow, string]> = [
  ['site', 'site'],
  ['placement', 'placement'],
  ['rank', 'rank r'],
  ['effectiveRank', 'effective rank'],
  ['topShare', 'top-r share of ‖ΔW‖²_F'],
  ['amplification', 'amplification ‖ΔW‖_F / ‖UᵀWV‖_F'],
  ['frobenius', '‖ΔW‖_F'],
  ['sigma1', 'σ₁'],
  ['intruders', 'intruder dimensions (top-k, cos < 0.5)'],
];

/** Rows of the all-cells table (shared by Markdown and HTML; the renderers format `runDir` as code). */
export interface CellRow {
  placement: string;
  variant: string;
  rank: string;
  alpha: string;
  metric: string;
  otherMetrics: string;
  trainableParams: string;
  percentOfBase: string;
  runTime: string;
  reused: string;
  runDir: string;
}

/** Columns of the all-cells table; the metric column is titled by the grid's metric. */
export function cellColumns(model: GridModel): Array<[keyof CellRow, string]> {
  return [
    ['placement', 'placement'],
    ...(model.variants[0] !== null ? [['variant', 'variant'] as [keyof CellRow, string]] : []),
    ['rank', 'rank r'],
    ['alpha', 'alpha'],
    ['metric', metricTitle(model.info)],
    ['otherMetrics', 'other metrics'],
    ['trainableParams', 'trainable params'],
    ['percentOfBase', '% of base'],
    ['runTime', 'run time'],
    ['reused', 'reused'],
    ['runDir', 'run dir'],
  ];
}

export function cellRows(model: GridModel): CellRow[] {
  const { info, result } = model;
  return result.cells.map((c) => {
    const v = model.value(c);
    return {
      placement: c.placement,
      variant: c.variant ?? (c.kind === 'full' ? '—' : ''),
      rank: c.rank === null ? 'full' : String(c.rank),
      alpha: c.alpha === null ? '—' : String(c.alpha),
      metric: v === null ? 'n/a' : formatMetric(info, v),
      otherMetrics: Object.entries(c.metrics)
        .filter(([k]) => k !== result.metric)
        .map(([k, x]) => `${k} ${Number(x.toPrecision(4))}`)
        .join(', '),
      trainableParams: formatInteger(c.trainableParams),
      percentOfBase: formatPercent(c.percentOfFull),
      runTime: `${(c.durationMs / 1000).toFixed(1)} s`,
      reused: c.cached ? 'yes' : 'no',
      runDir: c.runDir,
    };
  });
}
