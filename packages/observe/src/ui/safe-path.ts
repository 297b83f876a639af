import { realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';

/**
 * The file `rel` names inside `root`, or null when it would leave it: `..` segments, absolute paths, NUL bytes,
 * backslashes, and symbolic links that point outside (checked on the real path) are all refused.
 */
export async function safeResolve(root: string, rel: string): Promise<string | null> {
  if (typeof rel !== 'string' || rel.includes('\0') || rel.includes('\\') || isAbsolute(rel)) return null;
  if (rel.split('/').some((part) => part === '..')) return null;
  const realRoot = await realpath(root).catch(() => null);
  if (!realRoot) return null;
  const candidate = resolve(realRoot, rel);
  if (!inside(realRoot, candidate)) return null;
  const real = await realpath(candidate).catch(() => null);
  return real && inside(realRoot, real) ? real : null;
}

function inside(root: string, path: string): boolean {
  const r = relative(root, path);
  return r === '' || (!r.startsWith(`..${sep}`) && r !== '..' && !isAbsolute(r));
}
