import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ObservedRun, RunListener, RunObserver, RunSummary } from '@rankwise/core';
import { REPORT_CSS, renderSvg, type PlotSpec } from '@rankwise/report';
import { curveSpecs } from './curve-specs.js';
import { loadRun, type RunData } from './run-data.js';

export const REPORT_FILE = 'report.html';

export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

const num = (v: unknown, digits = 4): string =>
  typeof v === 'number'
    ? Number.isInteger(v)
      ? v.toLocaleString('en-US')
      : Number.isFinite(v)
        ? v.toPrecision(digits)
        : String(v)
    : typeof v === 'string'
      ? v
      : '—';
const seconds = (ms: unknown): string => (typeof ms === 'number' ? `${(ms / 1000).toFixed(1)} s` : '—');

interface Evaluation {
  index: number;
  label?: string;
  data: string;
  metrics: Record<string, number>;
  samples?: string[];
}

/** Evaluations of a run: the summary's (with samples) when it has them, else the metrics records (a running run). */
export function evaluationsOf(run: RunData): Evaluation[] {
  if (Array.isArray(run.summary.evaluations)) return run.summary.evaluations as Evaluation[];
  const skip = new Set(['time', 'event', 'index', 'label', 'data']);
  return run.records
    .filter((r) => r.event === 'evaluate')
    .map((r) => ({
      index: Number(r.index),
      label: r.label as string | undefined,
      data: String(r.data),
      metrics: Object.fromEntries(Object.entries(r).filter(([k, v]) => !skip.has(k) && typeof v === 'number')) as Record<string, number>,
    }));
}

function table(head: string[], rows: string[][]): string {
  return `<div class="wide"><table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c, i) => `<td${i === 0 ? ' class="label"' : ''}>${c}</td>`).join('')}</tr>`).join('')}</tbody></table></div>`;
}

function evaluationsTable(runs: readonly RunData[]): string {
  const rows = runs.flatMap((run) => evaluationsOf(run).map((e) => ({ run, e })));
  if (rows.length === 0) return '<p>No evaluations.</p>';
  const metrics = [...new Set(rows.flatMap(({ e }) => Object.keys(e.metrics)))];
  const head = [...(runs.length > 1 ? ['run'] : []), 'evaluation', 'data', ...metrics];
  return table(
    head,
    rows.map(({ run, e }) => [
      ...(runs.length > 1 ? [esc(run.name)] : []),
      esc(e.label ?? `stage ${e.index}`),
      esc(e.data),
      ...metrics.map((m) => num(e.metrics[m])),
    ]),
  );
}

function trainingTable(runs: readonly RunData[]): string {
  const rows = runs.flatMap((run) => ((run.summary.training as RunSummary['training'] | undefined) ?? []).map((t) => ({ run, t })));
  if (rows.length === 0) return '';
  const head = [...(runs.length > 1 ? ['run'] : []), 'train stage', 'steps', 'final loss', 'steps/s', 'time', 'trainable', 'total', 'optimizer state'];
  return table(
    head,
    rows.map(({ run, t }) => [
      ...(runs.length > 1 ? [esc(run.name)] : []),
      esc(t.label ?? `stage ${t.index}`),
      num(t.steps),
      num(t.finalLoss),
      num(t.stepsPerSec, 3),
      seconds(t.durationMs),
      num(t.trainableParams),
      num(t.totalParams),
      `${(t.optimizerStateBytes / 1024).toFixed(1)} KiB`,
    ]),
  );
}

function factsList(run: RunData): string {
  const s = run.summary;
  const backend = s.backend as RunSummary['backend'] | undefined;
  const fact = (k: string, v: string) => `<dt>${esc(k)}</dt><dd>${v}</dd>`;
  return `<dl class="facts">${[
    fact('run', `<code>${esc(run.dir)}</code>`),
    fact('status', esc(run.status) + (typeof s.error === 'string' ? ` — ${esc(s.error.split('\n')[0])}` : '')),
    fact('pipeline', `${esc(run.pipeline)}${typeof s.file === 'string' ? ` (<code>${esc(s.file)}</code>)` : ''}`),
    fact(
      'parameters',
      typeof s.parameterReport === 'string' && s.parameterReport ? esc(s.parameterReport) : `${num(s.trainableParams)} trainable of ${num(s.totalParams)}`,
    ),
    fact('backend', backend ? `${esc(backend.name)} (tfjs ${esc(backend.tfBackend)}) — ${esc(backend.reason)}` : '—'),
    fact('seed', num(s.seed)),
    fact('time', `${esc(String(s.startedAt ?? '—'))} → ${esc(String(s.finishedAt ?? '…'))}; ${seconds(s.durationMs)}`),
    ...(s.memory
      ? [
          fact(
            'memory',
            `peak RSS ${((s.memory as RunSummary['memory']).peakRssBytes / 2 ** 20).toFixed(0)} MiB; tensors ${(s.memory as RunSummary['memory']).numTensorsBefore} → ${(s.memory as RunSummary['memory']).numTensorsAfter}`,
          ),
        ]
      : []),
  ].join('')}</dl>`;
}

function samplesSection(runs: readonly RunData[]): string[] {
  const blocks = runs.flatMap((run) =>
    evaluationsOf(run)
      .filter((e) => e.samples?.length)
      .map(
        (e) =>
          `<h3>${esc(runs.length > 1 ? `${run.name} · ` : '')}${esc(e.label ?? `stage ${e.index}`)}</h3>${e.samples!.map((t) => `<pre class="sample">${esc(t)}</pre>`).join('')}`,
      ),
  );
  return blocks.length ? ['<h2>Samples</h2>', ...blocks] : [];
}

const figure = (spec: PlotSpec | null): string => (spec ? `<figure>${renderSvg(spec)}</figure>` : '');

/** A self-contained page (inline CSS and SVG, no scripts) for one run, or for several with their curves overlaid. */
export function runReportHtml(runs: readonly RunData[]): string {
  if (runs.length === 0) throw new Error('runReportHtml: no runs');
  const specs = curveSpecs(runs);
  const title = runs.length === 1 ? `${runs[0].name}: run report` : `${runs.length} runs compared`;
  const curves = [specs.loss, specs.lr, specs.gradNorm].map(figure).filter(Boolean);
  const body = [
    `<h1>${esc(title)}</h1>`,
    ...runs.map((run) => (runs.length > 1 ? `<h3>${esc(run.name)}</h3>` : '') + factsList(run)),
    '<h2>Curves</h2>',
    curves.length ? `<div class="grid-figures">${curves.join('')}</div>` : '<p>No training records (metrics.jsonl has no train lines).</p>',
    '<h2>Evaluations</h2>',
    evaluationsTable(runs),
    ...(trainingTable(runs) ? ['<h2>Training</h2>', trainingTable(runs)] : []),
    ...samplesSection(runs),
    '<footer>Written by @rankwise/observe from summary.json and metrics.jsonl. All figures are inline SVG; the page loads nothing. Rebuild with <code>rankwise report &lt;run folder…&gt;</code>.</footer>',
  ];
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${REPORT_CSS}
pre.sample { white-space: pre-wrap; background: white; border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; font-size: 13px; }</style>
</head>
<body><main>
${body.join('\n')}
</main></body>
</html>
`;
}

/** Writes `report.html` into a run folder (from its files, or with the summary of a run that is finishing). */
export async function writeRunReport(dir: string, summary?: RunSummary): Promise<string> {
  const file = join(dir, REPORT_FILE);
  await writeFile(file, runReportHtml([await loadRun(dir, summary)]));
  return file;
}

/** Writes report.html into every run folder when the run ends (completed, failed or interrupted). */
export const reportObserver: RunObserver = {
  name: 'report',
  async open(run: ObservedRun): Promise<RunListener> {
    return {
      record() {},
      async finish(summary) {
        await writeRunReport(run.dir, summary);
      },
    };
  },
};
