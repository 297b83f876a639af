import { readFile } from 'node:fs/promises';
import { relative, resolve } from 'node:path';
import { formatMetric, listRuns, type RunEntry } from '@rankwise/core/runs';
import { parseJsonText } from '@rankwise/formats';
import { EXIT, type ExitCode } from '../exit-codes.js';

/** The pipeline name a `runs` argument means: a pipeline file's "name", or the argument itself. */
async function pipelineName(arg: string): Promise<string> {
  if (!arg.endsWith('.json')) return arg;
  const parsed = parseJsonText(await readFile(resolve(arg), 'utf8').catch(() => ''));
  const name = parsed.ok ? (parsed.value as { name?: unknown } | null)?.name : undefined;
  return typeof name === 'string' ? name : arg.replace(/^.*[\\/]/, '').replace(/\.json$/, '');
}

function describe(entry: RunEntry): string {
  const s = entry.summary;
  const evaluations = Array.isArray(s.evaluations) ? (s.evaluations as Array<{ metrics?: Record<string, number> }>) : [];
  const metrics = evaluations.at(-1)?.metrics ?? {};
  const shown = Object.entries(metrics)
    .filter(([k]) => ['accuracy', 'bitsPerChar', 'loss'].includes(k))
    .map(([k, v]) => `${k} ${formatMetric(k, v)}`)
    .join(' ');
  const detail =
    entry.status === 'abandoned'
      ? `process ${String(s.pid)} on ${String(s.host)} is gone; not a result (rankwise run <file> --resume ${entry.id} continues it)`
      : entry.status === 'running'
        ? `pid ${String(s.pid)} on ${String(s.host)}`
        : entry.status === 'completed'
          ? shown
          : typeof s.error === 'string'
            ? s.error.split('\n')[0].slice(0, 120)
            : '';
  return `${entry.id.padEnd(20)} ${entry.status.padEnd(12)} ${entry.latest ? 'latest ' : '       '}${detail}`;
}

/** Lists run folders with their status: completed, failed, interrupted, running, or abandoned (process gone). */
export async function runsCommand(pipelines: string[], out: string): Promise<ExitCode> {
  const outRoot = resolve(out);
  const names = pipelines.length > 0 ? await Promise.all(pipelines.map(pipelineName)) : [undefined];
  let count = 0;
  for (const name of names) {
    const entries = await listRuns(outRoot, name);
    const byPipeline = new Map<string, RunEntry[]>();
    for (const entry of entries) byPipeline.set(entry.pipeline, [...(byPipeline.get(entry.pipeline) ?? []), entry]);
    if (name && entries.length === 0) console.log(`${name}: no runs in ${relative(process.cwd(), outRoot) || outRoot}`);
    for (const [pipeline, runs] of byPipeline) {
      console.log(`${pipeline} (${relative(process.cwd(), resolve(outRoot, pipeline)) || pipeline})`);
      for (const entry of runs) console.log(`  ${describe(entry)}`);
      count += runs.length;
    }
  }
  if (count === 0 && names[0] === undefined) console.log(`no runs in ${relative(process.cwd(), outRoot) || outRoot}`);
  return EXIT.ok;
}
