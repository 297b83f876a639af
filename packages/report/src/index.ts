/**
 * @rankwise/report: files and analyses for rankwise's expressivity-vs-rank grid.
 * Plain typed arrays and JSON in; JSON, Markdown, SVG (vega-lite rendered headless) and a self-contained HTML page out.
 */
export type { FailedGridCell, GridAnalyses, GridCell, GridResult, SiteAnalysis, SubspaceComparison } from './types.js';
export { FULL_FINE_TUNING } from './types.js';

export type { Matrix } from './linalg/matrix.js';
export { fromRows, toRows, transpose, matmul, add, subtract, frobeniusNorm } from './linalg/matrix.js';
export { svd, singularValues, type Svd } from './linalg/svd.js';
export { subspaceSimilarity } from './analysis/subspace.js';
export { spectrum, type Spectrum } from './analysis/spectrum.js';
export { amplificationFactor, type Amplification } from './analysis/amplification.js';
export { doraDelta } from './analysis/dora-delta.js';
export { analyzeSite, analyzeLoraSite, compareSubspaces, loraDelta, type SiteInput, type LoraSiteInput } from './analysis/site-analysis.js';

export { validateGridResult } from './grid/validate.js';
export { metricInfo, type MetricInfo } from './grid/metrics.js';
export { gridMarkdown } from './files/markdown.js';
export { heatmapSvg } from './plots/heatmap.js';
export { tradeoffSvg } from './plots/tradeoff.js';
export { subspaceSvg } from './plots/subspace-plot.js';
export { spectrumSvg, type SpectrumPlotOptions } from './plots/spectrum-plot.js';
export { renderSvg, renderSvgAsync, type PlotSpec } from './plots/render.js';
export { reportHtml, writeGridReport, renderReport, type RenderedReport } from './files/report.js';
export { budgetAnswer, paretoFront, type BudgetAnswer, type BudgetPoint } from './analysis/budget.js';
export { intruderDimensions, type IntruderDimensions } from './analysis/intruders.js';
export { chanceSubspaceSimilarity } from './analysis/subspace-chance.js';
export { forgettingPoints, forgettingFrontier, type ForgettingPoint } from './analysis/forgetting.js';
export { rankScaling, type RankScaling, type ScalingSeries } from './analysis/rank-scaling.js';
export { REPORT_CSS } from './files/html-style.js';
