import { resolve } from 'node:path';
import { DataError, defineDataset, splitOf, type ClassificationDataset, type DataLocation, type DataRecord } from '../contracts/dataset.js';
import type { DatasetSource } from '../contracts/datasets.js';
import { TableDataSchema, type TableDataSpec } from '../contracts/data-schema.js';
import { escapePointer } from '../contracts/pointer.js';
import { MAX_LISTED_PROBLEMS } from './compat.js';

/** A label value as a class name: strings as they are, finite numbers and booleans printed; anything else null. */
function labelName(value: unknown): string | null {
  if (typeof value === 'string') return value.trim() === '' ? null : value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'boolean') return String(value);
  return null;
}

/** A feature value as a number (CSV gives strings), or null. */
function featureValue(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value);
    return Number.isFinite(n) ? n : null;
  }
  return null;
}

/** Sorted class names: numerically when every name is a number, else by code point. */
export function sortClassNames(names: Iterable<string>): string[] {
  const list = [...new Set(names)];
  const numeric = list.every((n) => /^-?\d+(\.\d+)?$/.test(n));
  return numeric ? list.sort((a, b) => Number(a) - Number(b)) : list.sort();
}

interface TableRead {
  features: string[];
  classNames: string[];
  /** Examples of the split (after limit). */
  n: number;
  x: Float32Array;
  y: Int32Array;
}

/**
 * One pass over the file: problems go to `problem` (validation lists them all; open throws the first), and, when
 * `collect`, the split's rows are kept. Labels need the class list before they are numbered, so rows keep their
 * label names until the end.
 */
async function readTable(
  options: TableDataSpec,
  file: string,
  display: string,
  source: DatasetSource,
  problem: (where: DataLocation, message: string) => void,
  collect: boolean,
): Promise<TableRead | null> {
  let bad = 0;
  if (!source.records) throw new Error('this version of @rankwise/datasets reads no data files');
  const labelColumn = options.label ?? 'label';
  let features = options.features ?? null;
  const given = options.classes ?? null;
  const found = new Set<string>();
  const labels: string[] = [];
  let values = new Float32Array(1024);
  let n = 0;
  let records = 0;
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  try {
    for await (const record of source.records(file, {
      display,
      ...(options.format ? { format: options.format } : {}),
      ...(collect
        ? {}
        : {
            onProblem: (where, message) => {
              bad++;
              problem(where, message);
            },
          }),
    }) as AsyncIterable<DataRecord>) {
      const { value, where } = record;
      const index = records++ + bad; // skipped records keep their place in the split
      features ??= Object.keys(value).filter((k) => k !== labelColumn);
      if (features.length === 0) {
        problem(where, `the record has no feature columns besides the label "${labelColumn}"`);
        return null;
      }
      const label = labelName(value[labelColumn]);
      let ok = true;
      if (!(labelColumn in value)) {
        problem({ ...where, pointer: `/${escapePointer(labelColumn)}` }, `missing field "${labelColumn}" (the label column; set "label" to name another)`);
        ok = false;
      } else if (label === null) {
        problem(
          { ...where, pointer: `/${escapePointer(labelColumn)}` },
          `found ${JSON.stringify(value[labelColumn]) ?? String(value[labelColumn])}, allowed: a class name (a non-empty string or a number)`,
        );
        ok = false;
      } else if (given && !given.includes(label)) {
        problem({ ...where, pointer: `/${escapePointer(labelColumn)}` }, `label ${JSON.stringify(label)} is outside the classes ${JSON.stringify(given)}`);
        ok = false;
      }
      const row = new Float32Array(features.length);
      for (const [j, name] of features.entries()) {
        const v = featureValue(value[name]);
        if (v === null) {
          problem(
            { ...where, pointer: `/${escapePointer(name)}` },
            name in value ? `found ${JSON.stringify(value[name])}, allowed: a finite number (feature "${name}")` : `missing field "${name}" (a feature column)`,
          );
          ok = false;
          break;
        }
        row[j] = v;
      }
      if (!ok || label === null) continue;
      found.add(label);
      const inSplit = options.split === undefined || splitOf(index, options.validationFraction ?? 0.1, options.splitSeed ?? 0) === options.split;
      if (!collect || !inSplit || n >= limit) continue;
      if ((n + 1) * features.length > values.length) {
        const grown = new Float32Array(Math.max(values.length * 2, (n + 1) * features.length));
        grown.set(values);
        values = grown;
      }
      values.set(row, n * features.length);
      labels.push(label);
      n++;
    }
  } catch (error) {
    if (error instanceof Error && error.name === 'DataError') {
      const e = error as DataError;
      problem(e.location, e.problem);
      return null;
    }
    throw error;
  }
  if (records === 0 || !features) {
    problem({ file: display }, 'no records; a table dataset needs rows');
    return null;
  }
  const classNames = given ?? sortClassNames(found);
  if (classNames.length < 2)
    problem(
      { file: display, pointer: `/${escapePointer(labelColumn)}` },
      `found ${classNames.length} class (${classNames.join(', ')}), allowed: at least 2; classification needs two classes or more`,
    );
  const ids = new Map(classNames.map((name, i) => [name, i]));
  return { features, classNames, n, x: values.subarray(0, n * features.length), y: Int32Array.from(labels, (l) => ids.get(l)!) };
}

/** Classification rows of a CSV / TSV / JSONL / JSON / Parquet file: numeric feature columns and a label column. */
export const table = defineDataset<TableDataSpec>({
  name: 'table',
  description: 'Rows of numeric features with a label column from a CSV, TSV, JSONL, JSON or Parquet file (optionally gzipped), streamed.',
  options: TableDataSchema,
  async check(options, ctx) {
    const file = resolve(ctx.dir, options.path);
    let problems = 0;
    const read = await readTable(
      options,
      file,
      ctx.show(file),
      ctx.source,
      (where, message) => {
        if (++problems <= MAX_LISTED_PROBLEMS) ctx.dataIssue(where, message);
      },
      false,
    );
    if (problems > MAX_LISTED_PROBLEMS) ctx.dataIssue({ file: ctx.show(file) }, `${problems - MAX_LISTED_PROBLEMS} more problems not listed`);
    if (!read || problems > 0) return null;
    return { kind: 'classification', inputShape: [read.features.length], classNames: read.classNames };
  },
  async open(options, ctx): Promise<ClassificationDataset> {
    const file = resolve(ctx.dir, options.path);
    const display = options.path;
    const read = await readTable(
      options,
      file,
      display,
      ctx.source,
      (where, message) => {
        throw new DataError(where, message);
      },
      true,
    );
    if (!read) throw new DataError({ file: display }, 'could not be read');
    if (read.n === 0) throw new DataError({ file: display }, `no examples in split "${options.split}"; lower validationFraction or give more rows`);
    return {
      kind: 'classification',
      name: `${display}${options.split ? `/${options.split}` : ''}`,
      inputShape: [read.features.length],
      classNames: read.classNames,
      n: read.n,
      x: read.x,
      y: read.y,
    };
  },
});
