import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

/**
 * Why `--out` cannot hold run folders (one line naming the path), or null: checked before anything runs, so an
 * unusable output directory is invalid input (exit 2), not a half-done run.
 */
export async function checkOutDir(out: string): Promise<string | null> {
  let path = resolve(out);
  // The nearest existing ancestor decides: it must be a directory we can write into.
  for (;;) {
    const info = await stat(path).catch((error: NodeJS.ErrnoException) => error);
    if (!(info instanceof Error)) {
      if (!info.isDirectory()) return `${out}: ${path === resolve(out) ? 'is a file' : `${path} is a file`}, not a directory`;
      try {
        await access(path, constants.W_OK | constants.X_OK);
      } catch {
        return `${out}: permission denied: cannot create run folders in ${path}`;
      }
      return null;
    }
    if (info.code === 'ENOTDIR') {
      path = dirname(path);
      continue;
    }
    if (info.code !== 'ENOENT') return `${out}: cannot use ${path} (${info.code})`;
    const parent = dirname(path);
    if (parent === path) return `${out}: no existing directory on the path`;
    path = parent;
  }
}
