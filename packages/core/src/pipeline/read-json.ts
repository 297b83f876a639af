import { readFile } from 'node:fs/promises';
import type { ValidationIssue } from './issues.js';

/** Reads a JSON file; a missing file or a syntax error is an issue with line and column, never a throw. */
export async function readJsonFile(file: string, display: string): Promise<{ data?: unknown; issue?: ValidationIssue }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const message = code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'is a directory, not a JSON file' : `cannot read (${code ?? String(error)})`;
    return { issue: { file: display, pointer: '', message } };
  }
  try {
    return { data: JSON.parse(text) as unknown };
  } catch (error) {
    return { issue: { file: display, pointer: '', message: `not valid JSON: ${jsonErrorWithPosition(String((error as Error).message), text)}` } };
  }
}

function jsonErrorWithPosition(message: string, text: string): string {
  const match = /at position (\d+)/.exec(message);
  if (!match || /line \d+/.test(message)) return message;
  const position = Number(match[1]);
  const before = text.slice(0, position);
  const line = before.split('\n').length;
  const column = position - before.lastIndexOf('\n');
  return `${message} (line ${line}, column ${column})`;
}
