import { formatInteger, formatMetric, formatPercent, metricTitle, directionText } from '../grid/metrics.js';
import { gridModel, type GridModel } from '../grid/model.js';
import { budgetAnswer } from '../analysis/budget.js';
import { rankScaling } from '../analysis/rank-scaling.js';
import { forgettingFrontier, forgettingPoints } from '../analysis/forgetting.js';
import { BUDGET_COLUMNS, budgetRows } from '../grid/budget-rows.js';
import { SPECTRUM_COLUMNS, cellColumns, cellRows, gridFacts, spectrumRows } from '../grid/summary.js';
import { FULL_FINE_TUNING, type GridCell, type GridResult } from '../types.js';

/**
 * The grid as Markdown: the metric as a placement × rank table (with the full fine-tuning row at column "full"),
 * the trainable parameters (share of the base model) in the same layout, a note on the metric's direction,
 * every cell in long form, and the spectra table when analyses exist.
 */
export function gridMarkdown(result: GridResult): string {
  return modelMarkdown(gridModel(result));
}

/** `gridMarkdown` for an already validated grid. */
export function modelMarkdown(model: GridModel): string {
  const { result, info } = model;
  const facts = gridFacts(model);
  const direction = directionText(result.higherIsBetter);
  const cellCols = cellColumns(model);
  const lines = [
    `# ${esc(result.pipeline)}: expressivity vs rank`,
    '',
    `**${esc(budgetAnswer(model).sentence)}**`,
    '',
    `LoRA rank r (columns) × adapted weights (rows), plus full fine-tuning. Metric: **${metricTitle(info)}**, ${direction}; the best cell is in **bold** (${esc(facts.best)}).`,
    '',
    `Backend ${esc(result.backend)} · created ${esc(result.createdAt)} · ${facts.cells} · ${facts.cached} · ${facts.duration} of runs · base model ${facts.totalParams} parameters.`,
    '',
    ...model.variants.flatMap((variant) => [
      `## ${metricTitle(info)} — ${direction}${variant === null ? '' : ` — variant ${esc(variant)}`}`,
      '',
      ...layoutTable(model, variant, (cell) => {
        const v = model.value(cell);
        if (v === null) return 'n/a';
        const text = formatMetric(info, v);
        return cell === model.best ? `**${text}**` : text;
      }),
      '',
    ]),
    ...forgettingLines(model),
    ...(rankScaling(model).sentence ? ['## rank under α/r and α/√r', '', esc(rankScaling(model).sentence as string), ''] : []),
    '## the budget answer: best cell per parameter budget (Pareto front)',
    '',
    ...table(
      BUDGET_COLUMNS.map(([, t]) => t),
      BUDGET_COLUMNS.map(([k]) => (k === 'cell' ? 'l' : 'r')),
      budgetRows(model).map((r) => BUDGET_COLUMNS.map(([k]) => r[k])),
    ),
    '',
    ...model.variants.flatMap((variant) => [
      `## trainable parameters (share of the base model's ${facts.totalParams})${variant === null ? '' : ` — variant ${esc(variant)}`}`,
      '',
      ...layoutTable(model, variant, (cell) => `${formatInteger(cell.trainableParams)} (${formatPercent(cell.percentOfFull)})`),
      '',
    ]),
    '"—": not run; "n/a": the run has no value for the metric; "failed": see failed cells below.',
    '',
    '## all cells',
    '',
    ...table(
      cellCols.map(([, title]) => title),
      cellCols.map(([key]) => (['placement', 'variant', 'otherMetrics', 'reused', 'runDir'].includes(key) ? 'l' : 'r')),
      cellRows(model).map((row) => cellCols.map(([key]) => (key === 'runDir' ? `\`${row.runDir}\`` : row[key]))),
    ),
  ];
  if (result.failed?.length) {
    lines.push('', '## failed cells', '');
    lines.push(
      ...table(
        ['placement', 'rank', 'cell', 'error'],
        ['l', 'r', 'l', 'l'],
        result.failed.map((f) => [f.kind === 'full' ? FULL_FINE_TUNING : f.placement, f.rank === null ? 'full' : String(f.rank), f.id, f.error]),
      ),
    );
  }
  if (result.analyses?.sites.length) {
    lines.push('', '## analyses (LoRA paper §7)', '');
    lines.push(
      ...table(
        SPECTRUM_COLUMNS.map(([, t]) => t),
        SPECTRUM_COLUMNS.map((_, i) => (i < 2 ? 'l' : 'r')),
        spectrumRows(result.analyses).map((r) => SPECTRUM_COLUMNS.map(([k]) => r[k])),
      ),
    );
    lines.push(
      '',
      'Effective rank: exp(entropy of σᵢ/Σσ). Top-r share: Σ_{i≤r} σᵢ² / Σ σᵢ² (a squared share). Amplification: ‖ΔW‖_F / ‖UᵀWV‖_F with U, V the top-r singular vectors of ΔW. Intruder dimensions (Shuttleworth et al. 2024): of the fine-tuned W’s top-k singular vectors, those with cosine below 0.5 to every pretrained singular vector.',
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Learning vs forgetting: each cell's metric on the target and on the retained task, and whether it is on the frontier. */
function forgettingLines(model: GridModel): string[] {
  const points = forgettingPoints(model);
  if (points.length === 0) return [];
  const frontier = new Set(forgettingFrontier(points, model.result.higherIsBetter).map((p) => p.cell));
  const rows = points.map((p) => [
    p.cell.kind === 'full' ? FULL_FINE_TUNING : `${p.cell.placement}${p.cell.variant ? ` · ${p.cell.variant}` : ''}`,
    p.cell.rank === null ? 'full' : String(p.cell.rank),
    formatMetric(model.info, p.learned),
    formatMetric(model.info, p.retained),
    frontier.has(p.cell) ? 'yes' : '',
  ]);
  return [
    `## learning vs forgetting (retained: ${esc(model.result.retained ?? '')})`,
    '',
    ...table(['cell', 'rank r', `${model.info.label}, target`, `${model.info.label}, retained`, 'on the frontier'], ['l', 'r', 'r', 'r', 'l'], rows),
    '',
  ];
}

function layoutTable(model: GridModel, variant: string | null, text: (cell: GridCell) => string): string[] {
  const header = ['placement \\ rank', ...model.ranks.map(String), ...(model.full || model.failedAt(FULL_FINE_TUNING, null) ? ['full'] : [])];
  const missing = (p: string, r: number | null) => (model.failedAt(p, r, variant) ? 'failed' : '—');
  const hasFull = model.full !== undefined || model.failedAt(FULL_FINE_TUNING, null) !== undefined;
  const rows = model.placements.map((p) => [
    p,
    ...model.ranks.map((r) => (model.at(p, r, variant) ? text(model.at(p, r, variant) as GridCell) : missing(p, r))),
    ...(hasFull ? [''] : []),
  ]);
  if (hasFull) rows.push([FULL_FINE_TUNING, ...model.ranks.map(() => ''), model.full ? text(model.full) : missing(FULL_FINE_TUNING, null)]);
  return table(
    header,
    header.map((_, i) => (i === 0 ? 'l' : 'r')),
    rows,
  );
}

function table(header: string[], align: Array<'l' | 'r'>, rows: string[][]): string[] {
  const line = (cells: string[]) => `| ${cells.map(esc).join(' | ')} |`;
  return [line(header), `| ${align.map((a) => (a === 'r' ? '---:' : '---')).join(' | ')} |`, ...rows.map(line)];
}

/** Escapes the Markdown table separator. */
function esc(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}
