import { readFile } from 'node:fs/promises';
import { describeFsError, isFsError } from '@rankwise/formats';
import { decodeUtf8, parseJsonText } from '@rankwise/formats';
import type { ValidationIssue } from './issues.js';

/**
 * Reads a JSON file; a missing file, invalid UTF-8, nesting beyond the limit or a syntax error is an issue
 * (with line and column), never a throw.
 */
export async function readJsonFile(file: string, display: string): Promise<{ data?: unknown; issue?: ValidationIssue }> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const message =
      code === 'ENOENT'
        ? 'file not found'
        : code === 'EISDIR'
          ? 'is a directory, not a JSON file'
          : isFsError(error)
            ? `cannot read: ${describeFsError(error, '').replace(/^: /, '')}`
            : `cannot read (${String(error)})`;
    return { issue: { file: display, pointer: '', message } };
  }
  const decoded = decodeUtf8(bytes);
  if ('badByteAt' in decoded) {
    return {
      issue: { file: display, pointer: '', message: `not valid UTF-8 (byte ${decoded.badByteAt} of ${bytes.length}); pipeline files must be UTF-8 text` },
    };
  }
  const parsed = parseJsonText(decoded.text.replace(/^\uFEFF/, ''));
  if (!parsed.ok) return { issue: { file: display, pointer: '', message: `not valid JSON: ${jsonErrorWithPosition(parsed.message, decoded.text)}` } };
  return { data: parsed.value };
}
export function jsonErrorWithPosition(rawMessage: string, text: string): string {
  // V8 quotes the text around an unexpected token back ("…" is not valid JSON): never echo file contents.
  const message = rawMessage.replace(/, ".*is not valid JSON$/s, '');
  const match = /at position (\d+)/.exec(message);
  if (!match || /line \d+/.test(message)) return message;
  const position = Number(match[1]);
  const before = text.slice(0, position);
  const line = before.split('\n').length;
  const column = position - before.lastIndexOf('\n');
  return `${message} (line ${line}, column ${column})`;
}
