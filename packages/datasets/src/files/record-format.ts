import type { RecordFormat } from '@rankwise/core/plugin';

const EXTENSIONS: Array<[RegExp, RecordFormat]> = [
  [/\.(jsonl|ndjson)$/i, 'jsonl'],
  [/\.json$/i, 'json'],
  [/\.csv$/i, 'csv'],
  [/\.tsv$/i, 'tsv'],
  [/\.parquet$/i, 'parquet'],
];

/** The format of a data file from its name (`.gz` removed first), and whether it is gzipped; null format when unknown. */
export function recordFormatOf(path: string): { format: RecordFormat | null; gzip: boolean } {
  const gzip = /\.gz$/i.test(path);
  const name = gzip ? path.slice(0, -3) : path;
  return { format: EXTENSIONS.find(([pattern]) => pattern.test(name))?.[1] ?? null, gzip };
}
