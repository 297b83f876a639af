/**
 * Reading JSON that may be hostile: bytes must be valid UTF-8 (no silent U+FFFD), and nesting is limited before
 * JSON.parse runs, so a file nested thousands of levels deep is one clear error instead of a stack overflow.
 */

/** Deeper than any real pipeline, adapter or checkpoint config; far below what recursion can handle. */
export const MAX_JSON_DEPTH = 64;

export type JsonParse = { ok: true; value: unknown } | { ok: false; message: string };

/** The deepest nesting of `[`/`{` in JSON text (strings skipped) and where it first exceeds `limit`. */
export function jsonNesting(text: string, limit = MAX_JSON_DEPTH): { depth: number; over?: { line: number; column: number } } {
  let depth = 0;
  let max = 0;
  let inString = false;
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      depth++;
      if (depth > max) max = depth;
      if (depth > limit) return { depth, over: { line, column: i - lineStart + 1 } };
    } else if (c === 0x7d || c === 0x5d) depth--;
    else if (c === 0x0a) {
      line++;
      lineStart = i + 1;
    }
  }
  return { depth: max };
}

/** JSON.parse with the nesting limit; never throws. */
export function parseJsonText(text: string, limit = MAX_JSON_DEPTH): JsonParse {
  const nesting = jsonNesting(text, limit);
  if (nesting.over) {
    return {
      ok: false,
      message: `nested more than ${limit} levels deep (line ${nesting.over.line}, column ${nesting.over.column}); allowed: at most ${limit}`,
    };
  }
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    // V8 quotes the text around an unexpected token ("…" is not valid JSON): never echo file contents back.
    // Control characters in the message (an unexpected newline or NUL) are shown escaped: one line, always.
    const message = (error as Error).message.replace(/, ".*is not valid JSON$/s, '');
    return { ok: false, message: message.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) };
  }
}

/** Decodes UTF-8 strictly; null when the bytes are not valid UTF-8, with the offset of the first bad byte. */
export function decodeUtf8(bytes: Uint8Array): { text: string } | { badByteAt: number } {
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes) };
  } catch {
    return { badByteAt: firstInvalidUtf8(bytes) };
  }
}

/** Offset of the first byte that breaks UTF-8 (for messages). */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i];
    const need = b < 0x80 ? 0 : b >= 0xc2 && b < 0xe0 ? 1 : b >= 0xe0 && b < 0xf0 ? 2 : b >= 0xf0 && b < 0xf5 ? 3 : -1;
    if (need < 0 || i + need >= bytes.length + (need === 0 ? 1 : 0)) return i;
    for (let k = 1; k <= need; k++) if ((bytes[i + k] & 0xc0) !== 0x80) return i;
    i += need + 1;
  }
  return bytes.length;
}

/** The nesting depth of a value built in code (pipeline objects), stopping once past `limit`. */
export function valueDepth(value: unknown, limit = MAX_JSON_DEPTH, depth = 0): number {
  if (value === null || typeof value !== 'object') return depth;
  if (depth >= limit) return depth + 1;
  let max = depth + 1;
  for (const item of Object.values(value as Record<string, unknown>)) {
    max = Math.max(max, valueDepth(item, limit, depth + 1));
    if (max > limit) break;
  }
  return max;
}
