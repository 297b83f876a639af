import { FULL_FINE_TUNING, type GridAnalyses, type SiteAnalysis } from '../types.js';
import { DASHES, FULL_COLOR, sequentialColors } from './palette.js';
import { renderSvg, type PlotSpec } from './render.js';

export interface SpectrumPlotOptions {
  /** Sites to plot (one panel each); default: the first 6 sites in order of appearance. */
  sites?: string[];
  /** Singular values below this fraction of the cell's largest are not drawn (numerical zeros; log axis). Default 1e-6. */
  floor?: number;
}

/**
 * Singular values of ΔW per cell on a log y axis, one panel per site: colour = LoRA rank (viridis, dark = small r),
 * dash = placement, full fine-tuning as a thick black line. A rank-r LoRA ΔW has r non-zero singular values.
 */
export function spectrumSvg(analyses: GridAnalyses, options: SpectrumPlotOptions = {}): string {
  return renderSvg(spectrumSpec(analyses, options));
}

export function spectrumSpec(analyses: GridAnalyses, options: SpectrumPlotOptions = {}): PlotSpec {
  if (!analyses || !Array.isArray(analyses.sites) || analyses.sites.length === 0) throw new RangeError('spectrumSvg: the analyses have no sites');
  const known = [...new Set(analyses.sites.map((s) => s.site))];
  const sites = options.sites ?? known.slice(0, 6);
  const unknown = sites.filter((s) => !known.includes(s));
  if (unknown.length) throw new RangeError(`spectrumSvg: unknown site(s) ${unknown.join(', ')}; the analyses have ${known.join(', ')}`);
  const floor = options.floor ?? 1e-6;
  const chosen = analyses.sites.filter((s) => sites.includes(s.site));
  const ranks = [...new Set(chosen.flatMap((s) => (s.rank === null ? [] : [s.rank])))].sort((a, b) => a - b);
  const placements = [...new Set(chosen.filter((s) => s.rank !== null).map((s) => s.placement))];
  const hasFull = chosen.some((s) => s.rank === null);
  const rankLabels = [...ranks.map((r) => `r = ${r}`), ...(hasFull ? [FULL_FINE_TUNING] : [])];
  const dashDomain = [...placements, ...(hasFull ? [FULL_FINE_TUNING] : [])];
  const data = chosen.flatMap((s) => points(s, floor));
  const layer = {
    mark: { type: 'line' as const, point: { size: 18, filled: true }, strokeWidth: 1.8 },
    encoding: {
      x: {
        field: 'i',
        type: 'quantitative' as const,
        scale: { domainMin: 1, nice: false },
        axis: { title: 'index i (singular values in descending order)', format: 'd', tickMinStep: 1 },
      },
      y: {
        field: 'sigma',
        type: 'quantitative' as const,
        scale: { type: 'log' as const },
        axis: { title: 'singular value σᵢ of ΔW (log scale)', values: powersOfTen(data.map((d) => d.sigma as number)), labelExpr: POWER_LABEL, grid: true },
      },
      color: {
        field: 'rankLabel',
        type: 'nominal' as const,
        scale: { domain: rankLabels, range: [...sequentialColors(ranks.length), ...(hasFull ? [FULL_COLOR] : [])] },
        legend: { title: 'LoRA rank' },
      },
      strokeDash: {
        field: 'placement',
        type: 'nominal' as const,
        scale: { domain: dashDomain, range: dashDomain.map((p, k) => (p === FULL_FINE_TUNING ? [1, 0] : DASHES[k % DASHES.length])) },
        legend: {
          title: 'placement',
          symbolType: 'stroke',
          symbolStrokeWidth: 2.5,
          symbolSize: 500,
          encode: { symbols: { update: { stroke: { value: '#333' } } } },
        },
      },
      strokeWidth: { condition: { test: "datum.kind === 'full'", value: 3.5 }, value: 1.6 },
      detail: { field: 'series', type: 'nominal' as const },
    },
  };
  const title = {
    text: 'Singular values of ΔW: LoRA cells vs full fine-tuning',
    subtitle: `site${sites.length > 1 ? 's' : ''} ${sites.join(', ')} · a rank-r LoRA update has r non-zero singular values (values below ${floor.toExponential(0)} × the largest are not drawn)`,
  };
  if (sites.length === 1) return { title, width: 520, height: 320, data: { values: data }, ...layer } as PlotSpec;
  return {
    title,
    data: { values: data },
    facet: { field: 'site', type: 'nominal', sort: sites, header: { title: null, labelFontSize: 13, labelFontWeight: 'bold' } },
    columns: 2,
    spec: { width: 380, height: 240, ...layer },
  } as PlotSpec;
}

/** Tick labels: plain numbers from 0.001 to 1000, "1e-5" style outside. */
const POWER_LABEL = "datum.value >= 0.001 && datum.value <= 1000 ? format(datum.value, '~g') : format(datum.value, '.0e')";

/** The powers of ten spanning the values (the log axis's ticks). */
function powersOfTen(values: number[]): number[] {
  const lo = Math.floor(Math.log10(Math.min(...values)));
  const hi = Math.ceil(Math.log10(Math.max(...values)));
  return Array.from({ length: hi - lo + 1 }, (_, k) => Number(`1e${lo + k}`));
}

function points(s: SiteAnalysis, floor: number): Array<Record<string, string | number>> {
  const values = s.spectrum.singularValues;
  const top = values[0] ?? 0;
  const kind = s.rank === null ? 'full' : 'lora';
  const series = `${s.site} · ${s.placement} · ${s.rank ?? 'full'}`;
  return values.flatMap((sigma, k) =>
    sigma > 0 && sigma >= top * floor
      ? [
          {
            site: s.site,
            placement: s.rank === null ? FULL_FINE_TUNING : s.placement,
            rankLabel: s.rank === null ? FULL_FINE_TUNING : `r = ${s.rank}`,
            kind,
            series,
            i: k + 1,
            sigma,
          },
        ]
      : [],
  );
}
