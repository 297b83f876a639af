import { PlacementError } from '@rankwise/core/plugin';

/** A compiled site-name pattern. */
export type Matcher = (path: string) => boolean;

const escapeRegex = (text: string): string => text.replace(/[.+^${}()|\\]/g, '\\$&');

/** Glob over dotted paths: `*` stays within one segment, `**` crosses segments, `?` is one character. */
function globToRegex(glob: string): RegExp {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*' && glob[i + 1] === '*') {
      out += '.*';
      i++;
    } else if (c === '*') out += '[^.]*';
    else if (c === '?') out += '[^.]';
    else if (c === '[') {
      const end = glob.indexOf(']', i);
      if (end < 0) throw new Error(`unclosed "[" in glob "${glob}"`);
      out += glob.slice(i, end + 1);
      i = end;
    } else out += escapeRegex(c);
  }
  return new RegExp(`^${out}$`);
}

/**
 * PEFT's target semantics, extended:
 * - `/regex/`: the whole path must match (re.fullmatch);
 * - a glob (`*`, `?`, `[...]`): `layers.*`, `blocks.**.q`;
 * - `.suffix`: the path ends with it (`.q` matches `blocks.0.attn.q`);
 * - a plain name: the exact path, or a path ending in `.<name>` (PEFT's list semantics).
 */
export function compilePattern(pattern: string, pointer: string): Matcher {
  try {
    if (pattern.length >= 2 && pattern.startsWith('/') && pattern.endsWith('/')) {
      const regex = new RegExp(`^(?:${pattern.slice(1, -1)})$`);
      return (path) => regex.test(path);
    }
    if (/[*?[]/.test(pattern)) {
      const regex = globToRegex(pattern);
      return (path) => regex.test(path);
    }
  } catch (error) {
    throw new PlacementError(`invalid pattern ${JSON.stringify(pattern)}: ${(error as Error).message}`, pointer);
  }
  if (pattern.startsWith('.')) return (path) => path.endsWith(pattern);
  return (path) => path === pattern || path.endsWith(`.${pattern}`);
}
