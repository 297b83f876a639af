import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { FileLock } from './lock.js';

export interface BuildOnceOptions {
  lockFile: string;
  signal: AbortSignal;
  /** Build even when `find` has a result (still one builder at a time). */
  force?: boolean;
  /** The existing result, or null. */
  find(): Promise<string | null>;
  build(): Promise<string>;
  onFound(found: string): void;
  onWait(owner: string): void;
}

/**
 * A shared result (a `from` pipeline's merged model) built by one process while concurrent ones wait: check,
 * take the lock, check again (someone may have finished meanwhile), build, release. A lock left by a killed
 * process is detected as stale and taken over.
 */
export async function buildOnce(o: BuildOnceOptions): Promise<string> {
  if (!o.force) {
    const found = await o.find();
    if (found) {
      o.onFound(found);
      return found;
    }
  }
  await mkdir(dirname(o.lockFile), { recursive: true });
  const lock = await FileLock.acquire(o.lockFile, o.signal, o.onWait);
  try {
    if (!o.force) {
      const found = await o.find();
      if (found) {
        o.onFound(found);
        return found;
      }
    }
    return await o.build();
  } finally {
    await lock.release();
  }
}
