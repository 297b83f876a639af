import { lstat, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

/** What `rankwise store prune` may remove from a shared store, and how old it must be. */
export interface PruneOptions {
  /** Entries whose newest file is younger than this stay (they may belong to a grid still running). */
  olderThanMs: number;
  /** Published bases (bases/<id>) too; off by default, since a long grid reads its base until its last cell. */
  includeBases?: boolean;
  /** List what would go, remove nothing. */
  dryRun?: boolean;
  now?: number;
}

export interface PrunedEntry {
  /** Relative to the store: cells/<hash>, outputs/<sha256>, bases/<id>, or a leftover *.partial-* temp. */
  path: string;
  kind: 'cell' | 'output' | 'base' | 'partial';
  bytes: number;
  /** Newest modification time inside it (ms since the epoch). */
  newest: number;
}

/** A temp file or folder of an interrupted publish / pack is stale after an hour, whatever --older-than says. */
const PARTIAL_STALE_MS = 60 * 60 * 1000;

/** Total size and newest mtime of a file or folder (links are not followed). */
async function measure(path: string): Promise<{ bytes: number; newest: number }> {
  const info = await lstat(path);
  if (!info.isDirectory()) return { bytes: info.size, newest: info.mtimeMs };
  let bytes = 0;
  let newest = info.mtimeMs;
  for (const entry of await readdir(path)) {
    const inner = await measure(join(path, entry));
    bytes += inner.bytes;
    newest = Math.max(newest, inner.newest);
  }
  return { bytes, newest };
}

const SECTIONS = [
  { dir: 'cells', kind: 'cell' },
  { dir: 'outputs', kind: 'output' },
  { dir: 'bases', kind: 'base' },
] as const;

/**
 * Removes what a shared store keeps after grids are done: cell folders of attempts that never came back (with their
 * checkpoints), large cell outputs the coordinator has already copied into its cell cache, and, with
 * `includeBases`, published base checkpoints, each only when nothing in it changed for `olderThanMs`. Temp copies
 * (`*.partial-*`) go after an hour. Anything else in the store is left alone.
 */
export async function pruneStore(store: string, options: PruneOptions): Promise<PrunedEntry[]> {
  const rootInfo = await lstat(store).catch(() => null);
  if (!rootInfo?.isDirectory()) throw new Error(`--store ${store}: not a directory`);
  const now = options.now ?? Date.now();
  const pruned: PrunedEntry[] = [];
  for (const { dir, kind } of SECTIONS) {
    const entries = await readdir(join(store, dir)).catch(() => [] as string[]);
    for (const name of entries.sort()) {
      const path = join(store, dir, name);
      const { bytes, newest } = await measure(path);
      const partial = name.includes('.partial-');
      if (partial ? now - newest < PARTIAL_STALE_MS : now - newest < options.olderThanMs) continue;
      if (kind === 'base' && !partial && !options.includeBases) continue;
      pruned.push({ path: `${dir}/${name}`, kind: partial ? 'partial' : kind, bytes, newest });
      if (!options.dryRun) await rm(path, { recursive: true, force: true });
    }
  }
  return pruned;
}

/** "7d", "12h", "30m", "45s" or "0" → milliseconds; null for anything else. */
export function parseAge(text: string): number | null {
  const m = /^(\d+)(d|h|m|s)?$/.exec(text.trim());
  if (!m) return null;
  const unit = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000 }[m[2] as 'd' | 'h' | 'm' | 's'] ?? (m[1] === '0' ? 0 : NaN);
  const ms = Number(m[1]) * unit;
  return Number.isFinite(ms) ? ms : null;
}
