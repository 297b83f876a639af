import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

let counter = 0;

/** A sibling temporary name: same directory (so rename is atomic), unique per process and call. */
export function temporaryName(target: string): string {
  return join(dirname(target), `.${basename(target)}.tmp-${process.pid}-${++counter}`);
}

/**
 * Writes `data` to a temporary file next to `file`, then renames it over `file`: readers see the old content or
 * the new, never a part (a kill mid-write leaves only a `.tmp-` file behind).
 */
export async function atomicWriteFile(file: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const temp = temporaryName(file);
  try {
    await writeFile(temp, data);
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/** The synchronous form, for exit paths (signal handlers) that cannot await. */
export function atomicWriteFileSync(file: string, data: string): void {
  const temp = temporaryName(file);
  writeFileSync(temp, data);
  renameSync(temp, file);
}

/**
 * Fills a temporary directory next to `dir` with `fill`, then renames it to `dir` (replacing an older one):
 * a directory such as `merged/` either exists complete or not at all.
 */
export async function atomicDirectory(dir: string, fill: (temp: string) => Promise<void>): Promise<void> {
  await mkdir(dirname(dir), { recursive: true });
  const temp = temporaryName(dir);
  try {
    await mkdir(temp);
    await fill(temp);
    await rm(dir, { recursive: true, force: true });
    await rename(temp, dir);
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    throw error;
  }
}
