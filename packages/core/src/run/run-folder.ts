import { mkdir, readdir, readFile, readlink, rename, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { atomicWriteFile, atomicWriteFileSync, temporaryName } from '@rankwise/formats';
import { readableFsError } from '@rankwise/formats';
import { HOST, processAlive } from './host.js';

/** What a summary.json says: `running` until the run ends one way or another. */
export type RecordedStatus = 'running' | 'completed' | 'failed' | 'interrupted';
/** What a run is: a `running` run whose process is gone is `abandoned`, never a result. */
export type ObservedStatus = RecordedStatus | 'abandoned';

/** The fields every summary.json has, from the moment the run starts. */
export interface SummaryHeader {
  pipeline: string;
  status: RecordedStatus;
  pid: number;
  host: string;
  startedAt: string;
  /** Refreshed while the run is alive (heartbeat), so runs on other machines can be judged too. */
  updatedAt?: string;
  finishedAt?: string;
  error?: string;
  hash?: string;
}

/** Extra fields for the first summary (content hash, file, when a resume started…). */
export type HeaderFields = Partial<SummaryHeader> & Record<string, unknown>;

export const SUMMARY_FILE = 'summary.json';
export const LATEST = 'latest';
/** A `running` run on another machine whose heartbeat is older than this is abandoned. */
const HEARTBEAT_STALE_MS = 10 * 60_000;
const HEARTBEAT_MS = 30_000;

/** Active run folders of this process: exit paths (signals, uncaught errors) finalize them synchronously. */
const active = new Set<RunFolder>();

/**
 * One run directory, honest from start to end: summary.json says `running` (with pid and host) from the first
 * moment, every write of it is atomic, and whatever ends the process records how the run ended.
 */
export class RunFolder {
  private summary: Record<string, unknown> & SummaryHeader;
  private heartbeat: NodeJS.Timeout | null = null;

  private constructor(
    readonly dir: string,
    header: SummaryHeader,
  ) {
    this.summary = { ...header };
  }

  /** `<outRoot>/<name>/<YYYYMMDD-HHMMSS>[-n]`, created exclusively (concurrent runs get distinct folders). */
  static async create(outRoot: string, name: string, extra: HeaderFields = {}): Promise<RunFolder> {
    const base = join(outRoot, name);
    try {
      await mkdir(base, { recursive: true });
    } catch (error) {
      throw readableFsError(error, base);
    }
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
    // Prepared under a temporary name with its `running` summary inside, then renamed into place: a run folder
    // never exists without a summary, whenever the process dies. A rename onto an existing (non-empty) run
    // folder fails, so concurrent runs in the same second take the next free name.
    const temp = temporaryName(join(base, stamp));
    try {
      await mkdir(temp);
    } catch (error) {
      throw readableFsError(error, base);
    }
    const folder = new RunFolder(temp, {
      pipeline: name,
      startedAt: new Date().toISOString(),
      ...definedFields(extra),
      status: 'running',
      pid: process.pid,
      host: HOST,
    });
    await folder.write();
    for (let n = 0; ; n++) {
      const dir = join(base, n === 0 ? stamp : `${stamp}-${n}`);
      try {
        await rename(temp, dir);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EEXIST' || code === 'ENOTEMPTY' || code === 'EISDIR' || code === 'ENOTDIR') continue;
        await rm(temp, { recursive: true, force: true });
        throw readableFsError(error, dir);
      }
      return RunFolder.adopt(dir, folder.summary);
    }
  }

  private static adopt(dir: string, summary: RunFolder['summary']): RunFolder {
    const folder = new RunFolder(dir, summary);
    active.add(folder);
    folder.heartbeat = setInterval(() => folder.beat(), HEARTBEAT_MS);
    folder.heartbeat.unref();
    return folder;
  }

  /** Takes over an existing directory (a resumed run, a grid cell's fixed folder). */
  static async start(dir: string, name: string, extra: HeaderFields = {}): Promise<RunFolder> {
    const folder = new RunFolder(dir, {
      pipeline: name,
      startedAt: new Date().toISOString(),
      ...definedFields(extra),
      status: 'running',
      pid: process.pid,
      host: HOST,
    });
    await folder.write();
    return RunFolder.adopt(dir, folder.summary);
  }

  get startedAt(): string | undefined {
    return this.summary.startedAt;
  }

  /** Merges `fields` into the summary and writes it (atomically). */
  async update(fields: Record<string, unknown>): Promise<void> {
    this.summary = { ...this.summary, ...fields };
    await this.write();
  }

  /** The final summary: stops the heartbeat, writes, and forgets the folder; `latest` moves only to completed runs. */
  async finish(summary: Record<string, unknown> & { status: Exclude<RecordedStatus, 'running'> }, options: { markLatest: boolean }): Promise<void> {
    this.stop();
    this.summary = { ...this.summary, ...summary, pid: this.summary.pid, host: this.summary.host };
    await this.write();
    if (summary.status === 'completed' && options.markLatest) await pointLatestAt(this.dir);
  }

  /** For exit paths that cannot await (a second Ctrl-C, SIGTERM, an uncaught error). */
  finishSync(status: Exclude<RecordedStatus, 'running'>, error: string): void {
    this.stop();
    const now = new Date().toISOString();
    this.summary = { ...this.summary, status, error, finishedAt: now, updatedAt: now };
    try {
      atomicWriteFileSync(join(this.dir, SUMMARY_FILE), `${JSON.stringify(this.summary, null, 2)}\n`);
    } catch {
      // the folder may be gone; nothing more can be done on the way out
    }
  }

  private stop(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
    active.delete(this);
  }

  private beat(): void {
    if (!active.has(this)) return;
    this.summary.updatedAt = new Date().toISOString();
    try {
      atomicWriteFileSync(join(this.dir, SUMMARY_FILE), `${JSON.stringify(this.summary, null, 2)}\n`);
    } catch {
      // a failed heartbeat is retried at the next beat
    }
  }

  private async write(): Promise<void> {
    this.summary.updatedAt = new Date().toISOString();
    await atomicWriteFile(join(this.dir, SUMMARY_FILE), `${JSON.stringify(this.summary, null, 2)}\n`);
  }
}

function definedFields(extra: HeaderFields): HeaderFields {
  return Object.fromEntries(Object.entries(extra).filter(([, v]) => v !== undefined));
}

/** Records how every run of this process ended (called on a second Ctrl-C, SIGTERM or an uncaught error). */
export function finishActiveRunsSync(status: Exclude<RecordedStatus, 'running'>, reason: string): number {
  const folders = [...active];
  for (const folder of folders) folder.finishSync(status, reason);
  return folders.length;
}

/** `<run>/../latest` → `<run>`, replaced atomically: a new link under a temporary name, renamed over the old. */
export async function pointLatestAt(runDir: string): Promise<void> {
  const base = join(runDir, '..');
  const latest = join(base, LATEST);
  const temp = temporaryName(latest);
  const id = runDir.split(/[\\/]/).filter(Boolean).pop()!;
  try {
    await symlink(id, temp);
  } catch {
    await atomicWriteFile(latest, id); // file systems without symlinks: a file naming the run
    return;
  }
  try {
    await rename(temp, latest);
  } catch (error) {
    await rm(temp, { force: true });
    throw readableFsError(error, latest);
  }
}

/** A summary.json's status as it is now: `running` with its process gone ⇒ `abandoned`. */
export function observedStatus(summary: Partial<SummaryHeader>, now = Date.now()): ObservedStatus {
  const status = summary.status ?? 'running';
  if (status !== 'running') return status;
  if (summary.host === HOST) return processAlive(summary.pid ?? -1) ? 'running' : 'abandoned';
  const updated = Date.parse(summary.updatedAt ?? summary.startedAt ?? '');
  return Number.isFinite(updated) && now - updated < HEARTBEAT_STALE_MS ? 'running' : 'abandoned';
}

export interface RunEntry {
  pipeline: string;
  id: string;
  dir: string;
  status: ObservedStatus;
  summary: Partial<SummaryHeader> & Record<string, unknown>;
  latest: boolean;
}

/** Every run folder under `<outRoot>/<pipeline>` (all pipelines when none is named), oldest first. */
export async function listRuns(outRoot: string, pipeline?: string): Promise<RunEntry[]> {
  const names = pipeline
    ? [pipeline]
    : (await readdir(outRoot, { withFileTypes: true }).catch(() => []))
        .filter((e) => e.isDirectory())
        .map((e) => e.name)
        .sort();
  const out: RunEntry[] = [];
  for (const name of names) {
    const base = join(outRoot, name);
    const entries = await readdir(base, { withFileTypes: true }).catch(() => []);
    const latest = await readLatest(base);
    for (const entry of entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).sort((a, b) => a.name.localeCompare(b.name))) {
      const dir = join(base, entry.name);
      const summary = await readSummary(dir);
      if (!summary) continue;
      out.push({ pipeline: name, id: entry.name, dir, status: observedStatus(summary), summary, latest: latest === entry.name });
    }
  }
  return out;
}

export async function readSummary(dir: string): Promise<(Partial<SummaryHeader> & Record<string, unknown>) | null> {
  try {
    const parsed = JSON.parse(await readFile(join(dir, SUMMARY_FILE), 'utf8')) as unknown;
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Partial<SummaryHeader> & Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

async function readLatest(base: string): Promise<string | null> {
  try {
    return (await readlink(join(base, LATEST))).split(/[\\/]/).filter(Boolean).pop() ?? null;
  } catch {
    return (await readFile(join(base, LATEST), 'utf8').catch(() => '')).trim() || null;
  }
}
