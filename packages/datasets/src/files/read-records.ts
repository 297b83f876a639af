import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { pipeline as pipe } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { createWriteStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { parse as parseCsv } from 'csv-parse';
import type { DataRecord, RecordFormat, RecordReadOptions } from '@rankwise/core/plugin';
import { DataError } from './data-error.js';
import { JsonArraySplitter } from './json-array-stream.js';
import { recordFormatOf } from './record-format.js';

/** Rows of Parquet read per call (bounded memory: one slice of rows at a time). */
const PARQUET_ROWS_PER_READ = 4096;

/** The file's bytes (gunzipped when `gzip`), then `more` streams; an error in any of them ends the last one with it. */
function openText(path: string, gzip: boolean, ...more: NodeJS.ReadWriteStream[]): Readable {
  const streams: Array<NodeJS.ReadableStream | NodeJS.ReadWriteStream> = [createReadStream(path), ...(gzip ? [createGunzip()] : []), ...more];
  if (streams.length === 1) return streams[0] as Readable;
  // stream.pipeline, not .pipe(): an error anywhere (file not found, bad gzip) reaches the stream being read
  return (pipe as unknown as (streams: unknown[], done: () => void) => Readable)(streams, () => {});
}

/** Lines of a (possibly gzipped) text file with their 1-based numbers, streamed. */
async function* lines(path: string, gzip: boolean): AsyncGenerator<{ text: string; line: number }> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let rest = '';
  let line = 0;
  for await (const chunk of openText(path, gzip)) {
    const text = rest + decoder.decode(chunk as Buffer, { stream: true });
    let start = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      line++;
      yield { text: text.slice(start, nl), line };
      start = nl + 1;
    }
    rest = text.slice(start);
  }
  rest += decoder.decode();
  if (rest.length > 0) yield { text: rest, line: line + 1 };
}

function parseObject(text: string, where: DataRecord['where']): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new DataError(where, `not valid JSON (${(error as Error).message.replace(/^.*?: /, '')})`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new DataError(where, `found ${Array.isArray(value) ? 'an array' : JSON.stringify(value)}, allowed: a JSON object per record`);
  }
  return value as Record<string, unknown>;
}

type OnProblem = RecordReadOptions['onProblem'];

/** Parses one record; a bad one goes to `onProblem` (null: skipped) or is thrown. */
function parseOrReport(text: string, where: DataRecord['where'], onProblem: OnProblem): Record<string, unknown> | null {
  try {
    return parseObject(text, where);
  } catch (error) {
    if (!onProblem || !(error instanceof DataError)) throw error;
    onProblem(error.location, error.problem);
    return null;
  }
}

async function* jsonl(path: string, file: string, gzip: boolean, onProblem: OnProblem): AsyncGenerator<DataRecord> {
  let row = 0;
  for await (const { text, line } of lines(path, gzip)) {
    if (text.trim() === '') continue; // blank lines (and the final newline) are not records
    const where = { file, line, row };
    row++;
    const value = parseOrReport(text.replace(/\r$/, ''), where, onProblem);
    if (value) yield { value, where };
  }
}

async function* jsonArray(path: string, file: string, gzip: boolean, onProblem: OnProblem): AsyncGenerator<DataRecord> {
  const splitter = new JsonArraySplitter();
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let row = 0;
  const fail = (error: unknown): never => {
    const message = (error as Error).message;
    const line = /^line (\d+): /.exec(message);
    throw new DataError(line ? { file, line: Number(line[1]) } : { file }, line ? message.slice(line[0].length) : message);
  };
  for await (const chunk of openText(path, gzip)) {
    let elements;
    try {
      elements = splitter.push(decoder.decode(chunk as Buffer, { stream: true }));
    } catch (error) {
      fail(error);
    }
    for (const element of elements ?? []) {
      const where = { file, line: element.line, row, pointer: `/${row}` };
      row++;
      const value = parseOrReport(element.text, where, onProblem);
      if (value) yield { value, where };
    }
  }
  try {
    splitter.end();
  } catch (error) {
    fail(error);
  }
}

async function* delimited(path: string, file: string, gzip: boolean, delimiter: string): AsyncGenerator<DataRecord> {
  const parser = openText(path, gzip, parseCsv({ delimiter, columns: true, bom: true, skip_empty_lines: true, info: true, relax_quotes: false }));
  let row = 0;
  try {
    for await (const item of parser as AsyncIterable<{ record: Record<string, string>; info: { lines: number } }>) {
      const where = { file, line: item.info.lines, row };
      yield { value: item.record, where };
      row++;
    }
  } catch (error) {
    const e = error as Error & { lines?: number; code?: string };
    throw new DataError(
      { file, ...(e.lines !== undefined ? { line: e.lines } : {}) },
      e.message.replace(/^Invalid Record Length: /, '').replace(/, got \d+ on line \d+$/, (m) => m),
    );
  }
}

async function* parquet(path: string, file: string, gzip: boolean): AsyncGenerator<DataRecord> {
  const { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } = await import('hyparquet');
  const { compressors } = await import('hyparquet-compressors');
  let local = path;
  let tmp: string | null = null;
  if (gzip) {
    // Parquet needs random access: a gzipped file is unpacked to a temporary file first (streamed, never in memory).
    tmp = await mkdtemp(join(tmpdir(), 'rankwise-parquet-'));
    local = join(tmp, 'data.parquet');
    await pipeline(createReadStream(path), createGunzip(), createWriteStream(local));
  }
  try {
    let buffer;
    let metadata;
    try {
      buffer = await asyncBufferFromFile(local);
      metadata = await parquetMetadataAsync(buffer);
    } catch (error) {
      throw new DataError({ file }, `not a Parquet file (${(error as Error).message})`);
    }
    const rows = Number(metadata.num_rows);
    for (let start = 0; start < rows; start += PARQUET_ROWS_PER_READ) {
      const end = Math.min(rows, start + PARQUET_ROWS_PER_READ);
      const objects = await parquetReadObjects({ file: buffer, metadata, compressors, rowStart: start, rowEnd: end });
      for (const [k, value] of objects.entries()) {
        const row = start + k;
        yield { value: value as Record<string, unknown>, where: { file, row } };
      }
    }
  } finally {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  }
}

/**
 * Streams the records of a data file: JSONL (one object per line), a JSON array of objects, CSV / TSV with a header
 * row (values are strings), or Parquet (row slices), each optionally gzipped. Never reads the file whole. A bad
 * record throws a DataError with the file, line (text formats) or row, and what was found.
 */
export async function* readRecords(path: string, options: RecordReadOptions = {}): AsyncGenerator<DataRecord> {
  const file = options.display ?? path;
  const info = await stat(path).catch((error: NodeJS.ErrnoException) => error);
  if (info instanceof Error) throw new DataError({ file }, info.code === 'ENOENT' ? 'file not found' : `cannot read (${info.message})`);
  if (!info.isFile()) throw new DataError({ file }, 'not a file');
  const detected = recordFormatOf(path);
  const format: RecordFormat | null = options.format ?? detected.format;
  if (!format) throw new DataError({ file }, 'unknown data file format: name it .jsonl, .json, .csv, .tsv or .parquet (optionally + .gz), or set "format"');
  try {
    if (format === 'jsonl') yield* jsonl(path, file, detected.gzip, options.onProblem);
    else if (format === 'json') yield* jsonArray(path, file, detected.gzip, options.onProblem);
    else if (format === 'csv') yield* delimited(path, file, detected.gzip, ',');
    else if (format === 'tsv') yield* delimited(path, file, detected.gzip, '\t');
    else yield* parquet(path, file, detected.gzip);
  } catch (error) {
    if (error instanceof DataError || (error as Error).name === 'DataError') throw error;
    const e = error as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') throw new DataError({ file }, 'file not found');
    if (e.code === 'Z_DATA_ERROR' || e.code === 'Z_BUF_ERROR') throw new DataError({ file }, `not valid gzip data (${e.message})`);
    if (e instanceof TypeError && /encoded data was not valid/i.test(e.message)) throw new DataError({ file }, 'not valid UTF-8 text');
    throw new DataError({ file }, e.message);
  }
}
