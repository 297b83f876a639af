import { PlacementError } from '@rankwise/core/plugin';
import { RE2JS } from 're2js';

/** A compiled site-name pattern. */
export type Matcher = (path: string) => boolean;

const escapeRegex = (text: string): string => text.replace(/[.+^${}()|\\]/g, '\\$&');

/** Glob over dotted paths: `*` stays within one segment, `**` crosses segments, `?` is one character. */
function globToRegex(glob: string): string {
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
  return out;
}

/**
 * Whole-path matching with RE2 semantics (re2js): time linear in the path length whatever the pattern, so a
 * hostile `(a*)*` cannot stall validation. Backreferences and lookaround (not linear-time) are refused.
 */
function fullMatcher(source: string): Matcher {
  const regex = RE2JS.compile(source);
  return (path) => regex.matches(path);
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
      return fullMatcher(pattern.slice(1, -1));
    }
    if (/[*?[]/.test(pattern)) {
      return fullMatcher(globToRegex(pattern));
    }
  } catch (error) {
    const message = (error as Error).message.replace(/^error parsing regexp: /, '');
    throw new PlacementError(`invalid pattern ${JSON.stringify(pattern)}: ${message} (patterns use RE2 syntax: no backreferences or lookaround)`, pointer);
  }
  if (pattern.startsWith('.')) return (path) => path.endsWith(pattern);
  return (path) => path === pattern || path.endsWith(`.${pattern}`);
}
