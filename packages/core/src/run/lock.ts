import { open, readFile, rename, rm, stat } from 'node:fs/promises';
import { RunInterrupted } from '../contracts/abort.js';
import { HOST, processAlive } from './host.js';

interface LockOwner {
  pid: number;
  host: string;
  since: string;
}

/** A lock held by a process on another machine is taken as stale after this long. */
const FOREIGN_STALE_MS = 60 * 60_000;

/**
 * An exclusive lock file (created with O_EXCL) naming its owner. A lock whose owner is gone (same host, pid not
 * alive; another host, older than an hour) is stale and taken over, so a killed run never blocks the next.
 */
export class FileLock {
  private constructor(readonly file: string) {}

  /** Tries once; null when a live process holds the lock. */
  static async tryAcquire(file: string): Promise<FileLock | null> {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const handle = await open(file, 'wx');
        const owner: LockOwner = { pid: process.pid, host: HOST, since: new Date().toISOString() };
        await handle.writeFile(JSON.stringify(owner));
        await handle.close();
        return new FileLock(file);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      if (!(await removeIfStale(file))) return null;
    }
    return null;
  }

  /** Waits (polling) until the lock is free; `onWait` is called once when someone else holds it. */
  static async acquire(file: string, signal: AbortSignal, onWait?: (owner: string) => void, pollMs = 200): Promise<FileLock> {
    let told = false;
    for (;;) {
      const lock = await FileLock.tryAcquire(file);
      if (lock) return lock;
      if (!told) {
        told = true;
        onWait?.(await describeOwner(file));
      }
      if (signal.aborted) throw new RunInterrupted(`waiting for ${file}`);
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  }

  async release(): Promise<void> {
    await rm(this.file, { force: true });
  }
}

async function readOwner(file: string): Promise<{ owner: Partial<LockOwner> | null; text: string } | null> {
  try {
    const text = await readFile(file, 'utf8');
    try {
      return { owner: JSON.parse(text) as Partial<LockOwner>, text };
    } catch {
      return { owner: null, text };
    }
  } catch {
    return null;
  }
}

async function describeOwner(file: string): Promise<string> {
  const read = await readOwner(file);
  return read?.owner ? `pid ${read.owner.pid} on ${read.owner.host}` : 'another process';
}

/** Removes `file` when its owner is gone; true when it was stale (or vanished) and acquiring may be retried. */
async function removeIfStale(file: string): Promise<boolean> {
  const read = await readOwner(file);
  if (!read) return true; // released meanwhile
  const { owner } = read;
  let stale: boolean;
  if (!owner) {
    // being written right now, or garbage: stale only once it is old
    const info = await stat(file).catch(() => null);
    stale = !info || Date.now() - info.mtimeMs > 10_000;
  } else if (owner.host === HOST) {
    stale = !processAlive(owner.pid ?? -1);
  } else {
    stale = Date.now() - Date.parse(owner.since ?? '') > FOREIGN_STALE_MS || !Number.isFinite(Date.parse(owner.since ?? ''));
  }
  if (!stale) return false;
  // Move it aside first, then check it is still the stale one we judged (another waiter may have replaced it).
  const aside = `${file}.stale-${process.pid}`;
  try {
    await rename(file, aside);
  } catch {
    return true;
  }
  const moved = await readOwner(aside);
  if (moved && moved.text !== read.text) {
    await rename(aside, file).catch(() => {});
    return false;
  }
  await rm(aside, { force: true });
  return true;
}
