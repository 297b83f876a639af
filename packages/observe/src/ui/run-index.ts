import { readdir, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { listRuns, observedStatus, readSummary, type RunEntry } from '@rankwise/core/runs';
import { evaluationsOf } from '../report/run-report.js';
import type { RunData } from '../report/run-data.js';

/** One row of the dashboard's run list. */
export interface RunRow {
  /** Path of the run folder relative to --out: the run's id in the dashboard's URLs. */
  run: string;
  pipeline: string;
  id: string;
  status: string;
  kind: 'run' | 'grid' | 'cell';
  startedAt?: string;
  finishedAt?: string;
  durationMs?: number;
  /** The last evaluation's metrics (accuracy, loss, bits per character…). */
  metrics: Record<string, number>;
  /** Heatmap SVGs of a grid run, relative to --out. */
  heatmaps: string[];
}

async function gridHeatmaps(outRoot: string, dir: string): Promise<string[]> {
  const files = await readdir(join(dir, 'grid')).catch(() => [] as string[]);
  return files
    .filter((f) => /^heatmap.*\.svg$/.test(f))
    .sort()
    .map((f) => relative(outRoot, join(dir, 'grid', f)));
}

function rowOf(outRoot: string, entry: RunEntry, kind: RunRow['kind'], heatmaps: string[]): RunRow {
  const s = entry.summary;
  const evaluations = Array.isArray(s.evaluations) ? (s.evaluations as Array<{ metrics?: Record<string, number> }>) : [];
  return {
    run: relative(outRoot, entry.dir),
    pipeline: entry.pipeline,
    id: entry.id,
    status: entry.status,
    kind,
    startedAt: s.startedAt,
    finishedAt: s.finishedAt,
    durationMs: typeof s.durationMs === 'number' ? s.durationMs : undefined,
    metrics: evaluations.at(-1)?.metrics ?? {},
    heatmaps,
  };
}

/** Every run folder under `outRoot`: pipelines' runs, grid runs (with their heatmaps) and grid cells. */
export async function runRows(outRoot: string): Promise<RunRow[]> {
  const rows: RunRow[] = [];
  for (const entry of await listRuns(outRoot)) {
    const heatmaps = await gridHeatmaps(outRoot, entry.dir);
    const isGrid = heatmaps.length > 0 || typeof entry.summary.cells === 'number';
    rows.push(rowOf(outRoot, entry, isGrid ? 'grid' : 'run', heatmaps));
  }
  const pipelines = await readdir(outRoot, { withFileTypes: true }).catch(() => []);
  for (const p of pipelines.filter((e) => e.isDirectory())) {
    const cellsDir = join(outRoot, p.name, 'cells');
    if (!(await stat(cellsDir).catch(() => null))?.isDirectory()) continue;
    for (const cell of (await readdir(cellsDir, { withFileTypes: true })).filter((e) => e.isDirectory()).sort((a, b) => a.name.localeCompare(b.name))) {
      const dir = join(cellsDir, cell.name);
      const summary = await readSummary(dir);
      if (!summary) continue;
      rows.push(
        rowOf(
          outRoot,
          { pipeline: String(summary.pipeline ?? p.name), id: `cells/${cell.name}`, dir, status: observedStatus(summary), summary, latest: false },
          'cell',
          [],
        ),
      );
    }
  }
  return rows.sort((a, b) => String(b.startedAt ?? '').localeCompare(String(a.startedAt ?? '')));
}

/** A run's data for the page: curves, evaluations and facts (no raw records). */
export function runView(run: RunData): Record<string, unknown> {
  return {
    name: run.name,
    pipeline: run.pipeline,
    status: run.status,
    summary: { ...run.summary, evaluations: undefined },
    evaluations: evaluationsOf(run),
    curves: run.curves,
  };
}
