import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import type { RunSummary } from '@rankwise/core';
import type { CellFile, FileDigest, StoredCheckpoint } from './job-types.js';

/**
 * The shared store: a directory every machine sees (an NFS or SMB mount, the same share on each). Bases go to
 * bases/<id>/, large cell outputs to outputs/<sha256>; both are written under a temporary name and renamed, so a
 * reader never sees a half-written file, and both are named by content, so a reader checks what it got.
 */

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function listFiles(root: string, dir = root): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(root, full)));
    else if (entry.isFile()) out.push(relative(root, full).split(sep).join('/'));
  }
  return out.sort();
}

export async function digestDir(dir: string): Promise<FileDigest[]> {
  const files: FileDigest[] = [];
  for (const path of await listFiles(dir)) {
    const full = join(dir, path);
    files.push({ path, size: (await stat(full)).size, sha256: await sha256File(full) });
  }
  return files;
}

const tempName = (target: string) => `${target}.partial-${process.pid}-${randomBytes(4).toString('hex')}`;

/** Copies a checkpoint directory into <store>/bases/<id> (once: an existing copy is verified instead). */
export async function publishCheckpoint(store: string, source: string): Promise<StoredCheckpoint> {
  const files = await digestDir(source);
  if (!files.some((f) => f.path === 'model.safetensors')) throw new Error(`${source}: no model.safetensors to publish`);
  const id = createHash('sha256')
    .update(files.map((f) => `${f.sha256} ${f.size} ${f.path}\n`).join(''))
    .digest('hex'); // files are sorted by path
  const checkpoint: StoredCheckpoint = { id, dir: `bases/${id}`, files };
  const target = join(store, checkpoint.dir);
  if (await stat(target).catch(() => null)) {
    await verifyCheckpoint(store, checkpoint);
    return checkpoint;
  }
  const temp = tempName(target);
  for (const f of files) {
    await mkdir(dirname(join(temp, f.path)), { recursive: true });
    await copyFile(join(source, f.path), join(temp, f.path));
  }
  try {
    await rename(temp, target);
  } catch (error) {
    // Another coordinator published the same checkpoint first: keep theirs, once it checks out.
    await rm(temp, { recursive: true, force: true });
    if (!(await stat(target).catch(() => null))) throw error;
  }
  await verifyCheckpoint(store, checkpoint);
  return checkpoint;
}

const verified = new Map<string, string>();

/**
 * The checkpoint's directory in this machine's view of the store, after checking every file against the hashes the
 * coordinator published (re-hashed only when a file's size or mtime changed since the last check).
 */
export async function verifyCheckpoint(store: string, checkpoint: StoredCheckpoint): Promise<string> {
  const dir = join(store, checkpoint.dir);
  const stats = await Promise.all(checkpoint.files.map((f) => stat(join(dir, f.path)).catch(() => null)));
  const missing = checkpoint.files.filter((_, i) => !stats[i]);
  if (missing.length > 0) {
    throw new Error(
      `base checkpoint ${dir}: ${missing.map((f) => f.path).join(', ')} not found; is the shared store mounted at ${store} on this machine (rankwise worker --store <mount point>)?`,
    );
  }
  const fingerprint = stats.map((s) => `${s!.size}:${s!.mtimeMs}`).join(',');
  if (verified.get(dir) === fingerprint) return dir;
  for (const f of checkpoint.files) {
    const file = join(dir, f.path);
    const size = (await stat(file)).size;
    const sha = size === f.size ? await sha256File(file) : null;
    if (sha !== f.sha256) {
      throw new Error(
        `base checkpoint ${file}: ${sha === null ? `${size} bytes, the coordinator published ${f.size}` : `sha256 ${sha.slice(0, 16)}…, the coordinator published ${f.sha256.slice(0, 16)}…`} (a stale or partial copy on this machine's store?)`,
      );
    }
  }
  verified.set(dir, fingerprint);
  return dir;
}

/** Where a queued cell runs: in the shared store, named by the cell's content hash, the same for every attempt. */
export function storedCellDir(store: string, hash: string): string {
  if (!/^[0-9a-f]{16,128}$/.test(hash)) throw new Error(`cell hash "${hash}": not a hex content hash`);
  return join(store, 'cells', hash);
}

/**
 * Before an attempt runs in a cell folder: a summary an earlier attempt left as "running" belongs to an attempt that
 * lost the queue's lock (its worker was killed or stalled), so it is marked interrupted, which lets the runner resume
 * from its checkpoints. Done by the holder of the lock only.
 */
export async function takeOverCellFolder(dir: string, by: string): Promise<void> {
  const file = join(dir, 'summary.json');
  const text = await readFile(file, 'utf8').catch(() => null);
  if (text === null) return;
  let summary: Record<string, unknown>;
  try {
    summary = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return; // unreadable: the runner starts the folder afresh
  }
  if (summary.status !== undefined && summary.status !== 'running') return;
  const updated = { ...summary, status: 'interrupted', error: `the queue gave this cell to ${by}; this attempt lost its lock` };
  const temp = tempName(file);
  await writeFile(temp, `${JSON.stringify(updated, null, 2)}\n`);
  await rename(temp, file);
}

export interface PackLimits {
  /** Files up to this size travel inline in the job's return value… */
  inlineFileBytes: number;
  /** …until the inline files of one cell add up to this; the rest go to the store. */
  inlineTotalBytes: number;
}

export const DEFAULT_PACK_LIMITS: PackLimits = { inlineFileBytes: 8 << 20, inlineTotalBytes: 24 << 20 };

/** A finished cell's run directory as a result: small files inline, large ones copied to <store>/outputs/<sha256>. */
export async function packRunDir(runDir: string, store: string, limits: PackLimits = DEFAULT_PACK_LIMITS): Promise<CellFile[]> {
  const out: CellFile[] = [];
  let inline = 0;
  for (const path of await listFiles(runDir)) {
    if (path === 'summary.json') continue;
    const full = join(runDir, path);
    const bytes = await readFile(full);
    const digest = { path, size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
    if (bytes.length <= limits.inlineFileBytes && inline + bytes.length <= limits.inlineTotalBytes) {
      inline += bytes.length;
      out.push({ ...digest, base64: bytes.toString('base64') });
      continue;
    }
    const stored = `outputs/${digest.sha256}`;
    const target = join(store, stored);
    if (!(await stat(target).catch(() => null))) {
      await mkdir(dirname(target), { recursive: true });
      const temp = tempName(target);
      await writeFile(temp, bytes);
      await rename(temp, target);
    }
    out.push({ ...digest, stored });
  }
  return out;
}

/**
 * Writes a cell's result into its run directory: every file checked against its hash, summary.json last (so a
 * directory without a completed summary is never taken for a finished cell).
 */
export async function materializeCell(cellDir: string, files: CellFile[], summary: RunSummary, store: string): Promise<RunSummary> {
  await rm(cellDir, { recursive: true, force: true });
  await mkdir(cellDir, { recursive: true });
  for (const f of files) {
    if (f.path.split('/').some((part) => part === '..' || part === '') || f.path.startsWith('/')) throw new Error(`cell result: unsafe file path "${f.path}"`);
    const bytes = f.base64 !== undefined ? Buffer.from(f.base64, 'base64') : await readFile(join(store, f.stored ?? '')).catch(() => null);
    if (!bytes)
      throw new Error(`cell result: ${f.path} should be in the store at ${join(store, f.stored ?? '')}; not found (is the store shared with the workers?)`);
    const sha = createHash('sha256').update(bytes).digest('hex');
    if (bytes.length !== f.size || sha !== f.sha256)
      throw new Error(
        `cell result: ${f.path} has sha256 ${sha.slice(0, 16)}… (${bytes.length} bytes), the worker sent ${f.sha256.slice(0, 16)}… (${f.size} bytes)`,
      );
    await mkdir(dirname(join(cellDir, f.path)), { recursive: true });
    await writeFile(join(cellDir, f.path), bytes);
  }
  const local: RunSummary = { ...summary, runDir: cellDir };
  await writeFile(join(cellDir, 'summary.json'), `${JSON.stringify(local, null, 2)}\n`);
  return local;
}
