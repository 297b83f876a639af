/**
 * Text corpora from local files, chosen by extension:
 * - .jsonl / .ndjson: one JSON object per non-blank line with a string "text" field (one document each);
 * - .csv: a header row with a "text" column (parsed with csv-parse; one document per row);
 * - anything else: UTF-8 plain text (one document).
 * Documents are joined with a blank line ("\n\n"). A leading UTF-8 byte order mark is dropped.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'csv-parse/sync';

export interface FileText {
  text: string;
  documents: number;
}

function fromJsonLines(file: string, content: string): FileText {
  const docs: string[] = [];
  content.split(/\r?\n/).forEach((line, index) => {
    if (line.trim() === '') return;
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch (error) {
      throw new Error(`${file}:${index + 1}: not valid JSON (${(error as Error).message})`);
    }
    const text = (record as { text?: unknown } | null)?.text;
    if (typeof text !== 'string') {
      throw new Error(`${file}:${index + 1}: expected an object with a string "text" field`);
    }
    docs.push(text);
  });
  if (docs.length === 0) throw new Error(`${file}: no JSON lines found`);
  return { text: docs.join('\n\n'), documents: docs.length };
}

function fromCsv(file: string, content: string): FileText {
  let rows: Record<string, string>[];
  try {
    rows = parse(content, { columns: true, skip_empty_lines: true, relax_column_count: true }) as Record<string, string>[];
  } catch (error) {
    throw new Error(`${file}: cannot parse CSV (${(error as Error).message})`);
  }
  if (rows.length === 0) throw new Error(`${file}: no CSV rows after the header`);
  if (!Object.hasOwn(rows[0], 'text')) {
    throw new Error(`${file}: the CSV header has no "text" column; columns: ${Object.keys(rows[0]).join(', ')}`);
  }
  const docs = rows.map((row) => row.text ?? '');
  return { text: docs.join('\n\n'), documents: docs.length };
}

class TextFileError extends Error {}

export async function readTextFile(file: string): Promise<FileText> {
  if (typeof file !== 'string' || file === '') {
    throw new TypeError(`file path must be a non-empty string; got ${JSON.stringify(file)}`);
  }
  let content: string;
  try {
    const bytes = await readFile(file);
    const nul = bytes.indexOf(0);
    if (nul >= 0) throw new TextFileError(`text file ${file} is a binary file, not text (a NUL byte at offset ${nul})`);
    try {
      content = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      throw new TextFileError(`text file ${file} is not valid UTF-8; text datasets must be UTF-8`);
    }
  } catch (error) {
    if (error instanceof TextFileError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new Error(`text file not found: ${file} (resolved to ${path.resolve(file)})`);
    throw new Error(`cannot read text file ${file}: ${(error as Error).message}`);
  }
  if (content.charCodeAt(0) === 0xfeff) content = content.slice(1);
  const extension = path.extname(file).toLowerCase();
  const result =
    extension === '.jsonl' || extension === '.ndjson'
      ? fromJsonLines(file, content)
      : extension === '.csv'
        ? fromCsv(file, content)
        : { text: content, documents: 1 };
  if (result.text.length === 0) throw new Error(`text file ${file} has no text`);
  return result;
}
