import { directionText, formatCompact, formatMetric, formatPercent, metricTitle } from '../grid/metrics.js';
import type { GridModel } from '../grid/model.js';
import { SPECTRUM_COLUMNS, cellColumns, cellRows, gridFacts, spectrumRows, type CellRow } from '../grid/summary.js';
import { FULL_FINE_TUNING, type GridAnalyses, type GridCell, type SubspaceComparison } from '../types.js';
import { REPORT_CSS } from './html-style.js';
import { budgetAnswer } from '../analysis/budget.js';
import { rankScaling } from '../analysis/rank-scaling.js';
import { BUDGET_COLUMNS, budgetRows } from '../grid/budget-rows.js';

export interface ReportSvgs {
  /** One heatmap per variant (one, variant null, without a variant axis). */
  heatmaps: Array<{ variant: string | null; svg: string; file: string }>;
  /** Learning vs forgetting, when the grid has a retained evaluation. */
  forgetting: string | null;
  /** Final loss vs rank under α/r and α/√r, when the grid has both. */
  rankScaling: string | null;
  tradeoff: string;
  spectrum: string | null;
  subspace: Array<{ comparison: SubspaceComparison; svg: string; chanceSvg: string | null }>;
}

/** The self-contained page: inline CSS and SVGs, no scripts, no links (the only URLs are SVG namespace declarations). */
export function assembleHtml(model: GridModel, svgs: ReportSvgs, title?: string): string {
  const { result, info } = model;
  const facts = gridFacts(model);
  const heading = title ?? `${result.pipeline}: expressivity vs rank`;
  const direction = directionText(result.higherIsBetter);
  const body = [
    `<h1>${esc(heading)}</h1>`,
    `<p class="answer"><strong>${esc(budgetAnswer(model).sentence)}</strong></p>`,
    `<p class="lede">An expressivity-vs-rank grid: the pipeline <code>${esc(result.pipeline)}</code> was run once per LoRA rank r (x axis) and per choice of adapted weight matrices (y axis, the placement)${model.full ? ', and once with every weight trained (full fine-tuning, the far corner)' : ''}. Each run is scored by <strong>${esc(metricTitle(info))}</strong> on its evaluation; ${direction}.</p>`,
    `<dl class="facts">${fact('metric', `${metricTitle(info)} — ${direction}`)}${fact('best', facts.best)}${fact('grid', facts.cells)}${fact('runs', `${facts.cached}; ${facts.duration} of run time in all`)}${fact('base model', `${facts.totalParams} parameters`)}${fact('backend', result.backend)}${fact('created', result.createdAt)}</dl>`,
    '<h2>Metric by rank and placement</h2>',
    ...svgs.heatmaps.map((h) =>
      figure(
        h.svg,
        `${h.variant === null ? '' : `Variant <strong>${esc(h.variant)}</strong> (the colour scale is shared by all variants). `}Each cell is one run: its ${esc(info.label)} in bold, below it the trainable parameters and their share of the base model. Darker is better (${direction}). Read along a row to see how much rank a placement needs before the metric saturates; read down a column to compare placements at the same rank. The outlined black cell is full fine-tuning; the orange outline marks the best cell.`,
      ),
    ),
    '<h2>Metric vs trainable parameters</h2>',
    budgetTable(model),
    figure(
      svgs.tradeoff,
      `The same runs against their parameter cost (log scale). A line flattening early means extra rank buys little; a placement whose line lies ${result.higherIsBetter ? 'above' : 'below'} another reaches the same ${esc(info.label)} with fewer parameters. The black star is full fine-tuning: how close the LoRA lines come to it is the expressivity gap.`,
    ),
    ...(svgs.forgetting
      ? [
          '<h2>Learning vs forgetting</h2>',
          figure(
            svgs.forgetting,
            `Each run placed by how well it learned the target task (x) and how well it kept the retained task "${esc(result.retained ?? '')}" (y); up and right is better on both. Biderman et al. (2024) find that LoRA learns less than full fine-tuning but forgets less: LoRA points up and to the left of the star. The dashed line joins the runs no other run beats on both tasks.`,
          ),
        ]
      : []),
    ...(svgs.rankScaling
      ? [
          '<h2>Rank under α/r and α/√r</h2>',
          `<p>${esc(rankScaling(model).sentence ?? '')}</p>`,
          figure(
            svgs.rankScaling,
            'With α/r the update shrinks as 1/r, so a larger rank learns more slowly and the loss stops improving with rank; rsLoRA’s α/√r keeps the update’s scale stable, so higher rank can keep helping (Kalajdzievski 2023).',
          ),
        ]
      : []),
    '<h2>Table</h2>',
    ...model.variants.map((variant) => gridTable(model, variant)),
    '<p>— : not run; n/a : the run has no value for the metric; failed : see the failed cells below.</p>',
    '<h3>All cells</h3>',
    cellsTable(model),
    ...failedSection(model),
    ...(result.analyses && (result.analyses.sites.length || result.analyses.subspace.length) ? analysesSection(result.analyses, svgs) : []),
    `<footer>Written by @rankwise/report from grid.json. All figures are inline SVG; the page loads nothing.</footer>`,
  ];
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(heading)}</title>
<style>${REPORT_CSS}</style>
</head>
<body>
<main>
${body.join('\n')}
</main>
</body>
</html>
`;
}

function gridTable(model: GridModel, variant: string | null): string {
  const { info } = model;
  const hasFull = model.full !== undefined || model.failedAt(FULL_FINE_TUNING, null) !== undefined;
  const head = `<tr><th>placement \\ rank r</th>${model.ranks.map((r) => `<th>${r}</th>`).join('')}${hasFull ? '<th>full</th>' : ''}</tr>`;
  const td = (cell: GridCell | undefined, placement: string, rank: number | null): string => {
    if (!cell) return model.failedAt(placement, rank, variant) ? '<td class="failed">failed</td>' : '<td class="empty">—</td>';
    const v = model.value(cell);
    const cls = [cell === model.best ? 'best' : '', cell.kind === 'full' ? 'full' : ''].filter(Boolean).join(' ');
    return `<td${cls ? ` class="${cls}"` : ''}>${v === null ? 'n/a' : formatMetric(info, v)}<span class="sub">${formatCompact(cell.trainableParams)} · ${formatPercent(cell.percentOfFull)}</span></td>`;
  };
  const rows = model.placements.map(
    (p) =>
      `<tr><td class="label">${esc(p)}</td>${model.ranks.map((r) => td(model.at(p, r, variant), p, r)).join('')}${hasFull ? '<td class="empty"></td>' : ''}</tr>`,
  );
  if (hasFull)
    rows.push(
      `<tr><td class="label">${FULL_FINE_TUNING}</td>${model.ranks.map(() => '<td class="empty"></td>').join('')}${td(model.full, FULL_FINE_TUNING, null)}</tr>`,
    );
  return `<div class="wide"><table class="grid"><caption>${variant === null ? '' : `${esc(variant)}: `}${esc(metricTitle(info))} (${directionText(model.result.higherIsBetter)}); below: trainable parameters · share of the base model</caption>${head}${rows.join('')}</table></div>`;
}

function budgetTable(model: GridModel): string {
  const rows = budgetRows(model).map((r) => `<tr>${BUDGET_COLUMNS.map(([k]) => `<td${k === 'cell' ? ' class="label"' : ''}>${esc(r[k])}</td>`).join('')}</tr>`);
  return `<div class="wide"><table><caption>The budget answer: for each parameter budget, the best cell (the dashed Pareto front below) and how far it is from full fine-tuning</caption><tr>${BUDGET_COLUMNS.map(([, t]) => `<th>${esc(t)}</th>`).join('')}</tr>${rows.join('')}</table></div>`;
}

function cellsTable(model: GridModel): string {
  const columns = cellColumns(model);
  const td = (key: keyof CellRow, text: string): string =>
    key === 'placement'
      ? `<td class="label">${esc(text)}</td>`
      : key === 'runDir'
        ? `<td class="label"><code>${esc(text)}</code></td>`
        : `<td>${esc(text)}</td>`;
  const rows = cellRows(model).map((row) => `<tr>${columns.map(([key]) => td(key, row[key])).join('')}</tr>`);
  return `<div class="wide"><table><tr>${columns.map(([, title]) => `<th>${esc(title)}</th>`).join('')}</tr>${rows.join('')}</table></div>`;
}

function failedSection(model: GridModel): string[] {
  const failed = model.result.failed ?? [];
  if (failed.length === 0) return [];
  const rows = failed.map(
    (f) =>
      `<tr><td class="label">${esc(f.kind === 'full' ? FULL_FINE_TUNING : f.placement)}</td><td>${f.rank === null ? 'full' : f.rank}</td><td class="label"><code>${esc(f.id)}</code></td><td class="label">${esc(f.error)}</td></tr>`,
  );
  return [
    '<h3>Failed cells</h3>',
    `<div class="wide"><table><tr><th>placement</th><th>rank</th><th>cell</th><th>error</th></tr>${rows.join('')}</table></div>`,
  ];
}

function analysesSection(analyses: GridAnalyses, svgs: ReportSvgs): string[] {
  const out = ['<h2>Analyses (LoRA paper, Hu et al. 2021, §7)</h2>'];
  if (analyses.sites.length) {
    const rows = spectrumRows(analyses).map(
      (r) => `<tr>${SPECTRUM_COLUMNS.map(([k], i) => `<td${i < 2 ? ' class="label"' : ''}>${esc(r[k])}</td>`).join('')}</tr>`,
    );
    out.push(
      '<h3>Spectra of the weight updates ΔW</h3>',
      `<div class="wide"><table><tr>${SPECTRUM_COLUMNS.map(([, t]) => `<th>${esc(t)}</th>`).join('')}</tr>${rows.join('')}</table></div>`,
      '<ul>',
      '<li><strong>Effective rank</strong> = exp(entropy of pᵢ = σᵢ / Σσ) (Roy &amp; Vetterli 2007): k equal singular values give k. Far below r means the adapter uses only a few of its directions.</li>',
      '<li><strong>Top-r share</strong> = Σ<sub>i≤r</sub> σᵢ² / Σ σᵢ²: the share of ‖ΔW‖²<sub>F</sub> (squared) in the top r directions — 100 % for any rank-r LoRA update; for full fine-tuning it shows how low-rank the full update is.</li>',
      '<li><strong>Amplification</strong> = ‖ΔW‖<sub>F</sub> / ‖UᵀWV‖<sub>F</sub>, U and V the top-r singular vectors of ΔW (§7.3): how strongly ΔW amplifies directions that W already has but does not emphasise (the paper finds ≈ 21.5 at r = 4 and ≈ 2 at r = 64).</li>',
      '<li><strong>Intruder dimensions</strong> (Shuttleworth et al. 2024): of the fine-tuned W’s top-k singular vectors (output space), how many have |cosine| below 0.5 with every singular vector of the pretrained W — new directions that full fine-tuning rarely creates and low-rank LoRA often does. Compare each rank with the full fine-tuning row.</li>',
      '</ul>',
    );
    if (svgs.spectrum)
      out.push(
        figure(
          svgs.spectrum,
          'Singular values of each cell’s ΔW (log scale). A rank-r LoRA update stops after r values; if the full fine-tuning curve drops steeply after a few values, a small rank is enough to capture most of the update.',
        ),
      );
  }
  if (svgs.subspace.length) {
    out.push(
      '<h3>Subspace similarity between ranks</h3>',
      '<p>φ(i, j) = ‖U₁[:, :i]ᵀ U₂[:, :j]‖²<sub>F</sub> / min(i, j), with U₁, U₂ the left singular vectors of two runs’ A factors ([in, r]) at the same site (§7.2, Fig. 3). 1: the top-i directions of one lie inside the top-j directions of the other; random subspaces give about max(i, j) / in. A bright first row means the top direction is shared across ranks: the extra directions of the larger rank add little.</p>',
      '<p>Beside each, the chance level: the same φ for random Gaussian factors of the same shapes (the paper’s baseline). Only overlap clearly above it is learned.</p>',
      ...svgs.subspace.map(
        (s) =>
          `<div class="grid-figures">${figure(s.svg, `${esc(s.comparison.site)} (${esc(s.comparison.placement)}${s.comparison.variant ? `, ${esc(s.comparison.variant)}` : ''}): r = ${s.comparison.r1} vs r = ${s.comparison.r2}.`)}${s.chanceSvg ? figure(s.chanceSvg, `Chance: random factors [${s.comparison.r1} and ${s.comparison.r2} columns] of the same input dimension.`) : ''}</div>`,
      ),
    );
  }
  return out;
}

function figure(svg: string, caption: string): string {
  return `<figure>${svg}<figcaption>${caption}</figcaption></figure>`;
}

function fact(term: string, value: string): string {
  return `<dt>${esc(term)}</dt><dd>${esc(value)}</dd>`;
}

export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
