import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { readableFsError } from '@rankwise/formats';
import { listRuns, observedStatus, readSummary, RunFolder } from './run-folder.js';

/** Where training checkpoints live inside a run folder (one subfolder per train stage). */
export const CHECKPOINTS_DIR = 'checkpoints';

/** A resume that cannot happen: bad input (exit 2), said in one line. */
export class ResumeError extends Error {
  readonly exitCode = 2;

  constructor(message: string) {
    super(message);
    this.name = 'ResumeError';
  }
}

export interface RunIdentity {
  name: string;
  hash: string;
  file: string;
}

/**
 * The run folder for a run: a new `<out>/<name>/<id>`, a grid cell's fixed folder (resumed when it holds
 * checkpoints of this very pipeline, emptied otherwise), or the folder named by `--resume`.
 */
export async function openRunFolder(
  run: RunIdentity,
  outRoot: string,
  options: { runDir?: string; resume?: string },
): Promise<{ folder: RunFolder; resumed: boolean }> {
  const header = { hash: run.hash, file: run.file };
  if (options.resume !== undefined) {
    const dir = resolve(options.resume);
    await checkResumable(dir, run);
    const previous = await readSummary(dir);
    return { folder: await RunFolder.start(dir, run.name, { ...header, startedAt: previous?.startedAt, resumedAt: new Date().toISOString() }), resumed: true };
  }
  if (options.runDir !== undefined) {
    const dir = resolve(options.runDir);
    if (await resumableHere(dir, run)) return { folder: await RunFolder.start(dir, run.name, header), resumed: true };
    try {
      await rm(dir, { recursive: true, force: true });
      await mkdir(dir, { recursive: true });
    } catch (error) {
      throw readableFsError(error, dir);
    }
    return { folder: await RunFolder.start(dir, run.name, header), resumed: false };
  }
  return { folder: await RunFolder.create(outRoot, run.name, header), resumed: false };
}

/** A grid cell folder left by an interrupted, failed or abandoned run of the same pipeline, with checkpoints. */
async function resumableHere(dir: string, run: RunIdentity): Promise<boolean> {
  const summary = await readSummary(dir);
  if (!summary || summary.hash !== run.hash || summary.pipeline !== run.name) return false;
  const status = observedStatus(summary);
  if (status === 'completed' || status === 'running') return false;
  return hasCheckpoints(dir);
}

async function hasCheckpoints(dir: string): Promise<boolean> {
  const stages = await readdir(join(dir, CHECKPOINTS_DIR)).catch(() => [] as string[]);
  for (const stage of stages) if ((await readdir(join(dir, CHECKPOINTS_DIR, stage)).catch(() => [])).some((e) => /^step-\d+$/.test(e))) return true;
  return false;
}

async function checkResumable(dir: string, run: RunIdentity): Promise<void> {
  const info = await stat(dir).catch(() => null);
  if (!info?.isDirectory()) throw new ResumeError(`--resume ${dir}: not a run folder (no such directory)`);
  const summary = await readSummary(dir);
  if (!summary) throw new ResumeError(`--resume ${dir}: not a run folder (no readable summary.json)`);
  if (summary.pipeline !== run.name) throw new ResumeError(`--resume ${dir}: a run of "${String(summary.pipeline)}", not of "${run.name}"`);
  const status = observedStatus(summary);
  if (status === 'completed') throw new ResumeError(`--resume ${dir}: that run completed; nothing to resume`);
  if (status === 'running') throw new ResumeError(`--resume ${dir}: still running (pid ${summary.pid} on ${summary.host})`);
  if (summary.hash !== run.hash) {
    throw new ResumeError(
      `--resume ${dir}: the pipeline changed since that run (content hash ${String(summary.hash).slice(0, 12)}, now ${run.hash.slice(0, 12)}); resume needs the same file, --set and --seed`,
    );
  }
}

/** `--resume latest`: the newest run of the pipeline that did not complete (interrupted, failed or abandoned). */
export async function resolveResumeTarget(outRoot: string, name: string, target: string): Promise<string> {
  if (target !== 'latest') return resolve(target);
  const runs = await listRuns(outRoot, name);
  const newest = runs[runs.length - 1];
  if (!newest) throw new ResumeError(`--resume latest: ${join(outRoot, name)} has no runs`);
  if (newest.status === 'completed') throw new ResumeError(`--resume latest: the newest run of ${name} (${newest.id}) completed; nothing to resume`);
  if (newest.status === 'running')
    throw new ResumeError(`--resume latest: the newest run of ${name} (${newest.id}) is still running (pid ${newest.summary.pid})`);
  return newest.dir;
}
