import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunSummary } from '@rankwise/core';
import { evaluationsOf } from '../report/run-report.js';
import type { RunData } from '../report/run-data.js';

/** The settings of a run (its pipeline.json, seed and backend as run) flattened to JSON pointer → JSON text. */
export function flattenSettings(value: unknown, pointer = '', out = new Map<string, string>()): Map<string, string> {
  if (value !== null && typeof value === 'object') {
    const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value);
    if (entries.length === 0) out.set(pointer || '/', JSON.stringify(value));
    for (const [k, v] of entries) flattenSettings(v, `${pointer}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`, out);
  } else {
    out.set(pointer || '/', JSON.stringify(value));
  }
  return out;
}

export interface RunComparison {
  runs: string[];
  /** Settings (JSON pointers into pipeline.json) whose values differ between the runs; `undefined`: absent. */
  settings: Array<{ pointer: string; values: Array<string | undefined> }>;
  /** Metrics of each run: every evaluation's metrics, the final training loss, time and trainable parameters. */
  metrics: Array<{ name: string; values: Array<number | undefined> }>;
}

async function settingsOf(run: RunData): Promise<Map<string, string>> {
  try {
    const pipeline = JSON.parse(await readFile(join(run.dir, 'pipeline.json'), 'utf8')) as Record<string, unknown>;
    delete pipeline.$schema;
    delete pipeline.description;
    return flattenSettings(pipeline);
  } catch {
    return new Map();
  }
}

/** Which settings differ between two or more runs, and their metrics side by side. */
export async function compareRuns(runs: readonly RunData[]): Promise<RunComparison> {
  const settings = await Promise.all(runs.map(settingsOf));
  const pointers = [...new Set(settings.flatMap((s) => [...s.keys()]))];
  const differing = pointers.map((pointer) => ({ pointer, values: settings.map((s) => s.get(pointer)) })).filter(({ values }) => new Set(values).size > 1);
  const metrics = new Map<string, Array<number | undefined>>();
  const put = (name: string, i: number, v: number | undefined) => {
    if (v === undefined) return;
    if (!metrics.has(name))
      metrics.set(
        name,
        runs.map(() => undefined),
      );
    metrics.get(name)![i] = v;
  };
  runs.forEach((run, i) => {
    for (const e of evaluationsOf(run)) for (const [k, v] of Object.entries(e.metrics)) put(`${e.label ?? `stage ${e.index}`} ${k}`, i, v);
    const training = (run.summary.training as RunSummary['training'] | undefined) ?? [];
    const last = training.at(-1);
    put('final train loss', i, last?.finalLoss ?? [...run.curves].reverse().find((p) => p.kind === 'train')?.loss);
    put('train steps/s', i, last?.stepsPerSec);
    put('trainable params', i, typeof run.summary.trainableParams === 'number' ? run.summary.trainableParams : undefined);
    put('duration s', i, typeof run.summary.durationMs === 'number' ? run.summary.durationMs / 1000 : undefined);
  });
  return { runs: runs.map((r) => r.name), settings: differing, metrics: [...metrics].map(([name, values]) => ({ name, values })) };
}

const shown = (v: number | undefined): string =>
  v === undefined ? '—' : Number.isInteger(v) ? v.toLocaleString('en-US') : Number.isFinite(v) ? String(Number(v.toPrecision(5))) : String(v);

/** The comparison as a plain-text table (one column per run). */
export function comparisonTable(c: RunComparison): string {
  const rows: string[][] = [['', ...c.runs.map((_, i) => `run ${i + 1}`)]];
  rows.push(...c.settings.map((s) => [s.pointer, ...s.values.map((v) => v ?? '(absent)')]));
  if (c.settings.length === 0) rows.push(['(no setting differs)', ...c.runs.map(() => '')]);
  rows.push(['—', ...c.runs.map(() => '')]);
  rows.push(...c.metrics.map((m) => [m.name, ...m.values.map(shown)]));
  const widths = rows[0].map((_, j) => Math.max(...rows.map((r) => r[j].length)));
  const line = (r: string[]) =>
    r
      .map((cell, j) => (j === 0 ? cell.padEnd(widths[j]) : cell.padStart(widths[j])))
      .join('  ')
      .trimEnd();
  const legend = c.runs.map((r, i) => `run ${i + 1}: ${r}`);
  return [...legend, '', ...rows.map((r) => (r[0] === '—' ? widths.map((w) => '─'.repeat(w)).join('  ') : line(r)))].join('\n');
}
