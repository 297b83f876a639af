import { stat } from 'node:fs/promises';
import fg from 'fast-glob';
import { UsageError } from './options.js';

/**
 * Expands globs (`pipelines/*.json`) and folders (their `*.json`); plain paths pass through even when missing, so
 * validation reports them. A glob that matches nothing or a folder without pipelines is a UsageError (exit 2).
 */
export async function expandFiles(patterns: readonly string[], cwd = process.cwd()): Promise<string[]> {
  const files: string[] = [];
  for (const pattern of patterns) {
    if (fg.isDynamicPattern(pattern)) {
      const matches = (await fg(pattern, { cwd, onlyFiles: true })).sort();
      if (matches.length === 0) throw new UsageError(`${pattern}: no file matches this glob (from ${cwd})`);
      files.push(...matches);
    } else if ((await stat(pattern).catch(() => null))?.isDirectory()) {
      const folder = pattern.replace(/\/$/, '');
      const found = (await fg('*.json', { cwd: pattern, onlyFiles: true })).sort();
      if (found.length === 0) throw new UsageError(`${folder}: a folder with no pipeline files (*.json) in it`);
      files.push(...found.map((f) => `${folder}/${f}`));
    } else {
      files.push(pattern);
    }
  }
  return [...new Set(files)];
}
