import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gridModel, type GridModel } from '../grid/model.js';
import { heatmapSpec } from '../plots/heatmap.js';
import { renderSvg } from '../plots/render.js';
import { spectrumSpec } from '../plots/spectrum-plot.js';
import { subspaceSpec } from '../plots/subspace-plot.js';
import { forgettingSpec } from '../plots/forgetting-plot.js';
import { rankScalingSpec } from '../plots/rank-scaling-plot.js';
import { tradeoffSpec } from '../plots/tradeoff.js';
import type { GridAnalyses, GridResult, SubspaceComparison } from '../types.js';
import { assembleHtml, type ReportSvgs } from './html.js';
import { modelMarkdown } from './markdown.js';

export interface RenderedReport extends ReportSvgs {
  html: string;
  subspace: Array<{ comparison: SubspaceComparison; svg: string; file: string; chanceSvg: string | null; chanceFile: string }>;
}

/** Renders every figure once and the page around them. */
export function renderReport(result: GridResult, extra: { title?: string } = {}): RenderedReport {
  return renderModel(gridModel(result), extra);
}

function renderModel(model: GridModel, extra: { title?: string } = {}): RenderedReport {
  const analyses = model.result.analyses;
  if (analyses) validateAnalyses(analyses);
  const svgs = {
    heatmaps: model.variants.map((variant) => ({
      variant,
      svg: renderSvg(heatmapSpec(model, variant)),
      file: variant === null ? 'heatmap.svg' : `heatmap-${slug(variant)}.svg`,
    })),
    tradeoff: renderSvg(tradeoffSpec(model)),
    forgetting: ((spec) => (spec ? renderSvg(spec) : null))(forgettingSpec(model)),
    rankScaling: ((spec) => (spec ? renderSvg(spec) : null))(rankScalingSpec(model)),
    spectrum: analyses?.sites.length ? renderSvg(spectrumSpec(analyses)) : null,
    subspace: subspaceFiles(analyses?.subspace ?? []).map(({ comparison, file }) => ({
      comparison,
      file,
      svg: renderSvg(subspaceSpec(comparison)),
      chanceSvg: comparison.chance
        ? renderSvg(
            subspaceSpec({ ...comparison, site: `${comparison.site} — chance`, placement: 'random factors of the same shapes', phi: comparison.chance }),
          )
        : null,
      chanceFile: file.replace(/\.svg$/, '-chance.svg'),
    })),
  };
  return { ...svgs, html: assembleHtml(model, svgs, extra.title) };
}

/** One self-contained HTML page: heading, what the grid is, heatmap, trade-off plot, tables, analyses and how to read them. */
export function reportHtml(result: GridResult, extra?: { title?: string }): string {
  return renderReport(result, extra).html;
}

/**
 * Writes grid.json, grid.md, heatmap.svg (heatmap-<variant>.svg per variant), tradeoff.svg, report.html — plus spectrum.svg and one
 * subspace-<site>-<placement>-r<r1>-vs-r<r2>.svg per comparison when analyses exist — into `dir` (created if needed)
 * and returns the file names. Validates before writing anything. Non-finite numbers become null in grid.json.
 */
export async function writeGridReport(dir: string, result: GridResult): Promise<string[]> {
  const model = gridModel(result);
  const report = renderModel(model);
  const files: Array<[string, string]> = [
    ['grid.json', `${JSON.stringify(result, null, 2)}\n`],
    ['grid.md', modelMarkdown(model)],
    ...report.heatmaps.map((h) => [h.file, h.svg] as [string, string]),
    ['tradeoff.svg', report.tradeoff],
    ...(report.forgetting ? [['forgetting.svg', report.forgetting] as [string, string]] : []),
    ...(report.rankScaling ? [['rank-scaling.svg', report.rankScaling] as [string, string]] : []),
    ...(report.spectrum ? [['spectrum.svg', report.spectrum] as [string, string]] : []),
    ...report.subspace.flatMap((s) => [[s.file, s.svg] as [string, string], ...(s.chanceSvg ? [[s.chanceFile, s.chanceSvg] as [string, string]] : [])]),
    ['report.html', report.html],
  ];
  await mkdir(dir, { recursive: true });
  for (const [name, text] of files) await writeFile(join(dir, name), text, 'utf8');
  return files.map(([name]) => name);
}

function subspaceFiles(comparisons: SubspaceComparison[]): Array<{ comparison: SubspaceComparison; file: string }> {
  const used = new Set<string>();
  return comparisons.map((comparison) => {
    const variant = comparison.variant ? `-${slug(comparison.variant)}` : '';
    const base = `subspace-${slug(comparison.site)}-${slug(comparison.placement)}${variant}-r${comparison.r1}-vs-r${comparison.r2}`;
    let file = `${base}.svg`;
    for (let k = 2; used.has(file); k++) file = `${base}-${k}.svg`;
    used.add(file);
    return { comparison, file };
  });
}

function slug(s: string): string {
  return (
    s
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '') || 'x'
  );
}

function validateAnalyses(a: GridAnalyses): void {
  if (!Array.isArray(a.sites) || !Array.isArray(a.subspace)) throw new TypeError('grid analyses: expected { sites: [], subspace: [] }');
  a.sites.forEach((s, i) => {
    if (typeof s.site !== 'string' || !s.spectrum || !Array.isArray(s.spectrum.singularValues)) {
      throw new TypeError(`grid analyses: site entry ${i} needs a site name and a spectrum with singularValues`);
    }
    if (s.rank !== null && (!Number.isInteger(s.rank) || s.rank < 1)) throw new RangeError(`grid analyses: site entry ${i} (${s.site}) has rank ${s.rank}`);
  });
}
