import { stat } from 'node:fs/promises';
import fg from 'fast-glob';

/** Expands globs (`pipelines/*.json`); plain paths pass through even when missing, so validation reports them. */
export async function expandFiles(patterns: readonly string[], cwd = process.cwd()): Promise<string[]> {
  const files: string[] = [];
  for (const pattern of patterns) {
    if (fg.isDynamicPattern(pattern)) {
      const matches = (await fg(pattern, { cwd, onlyFiles: true })).sort();
      if (matches.length === 0) throw new Error(`no file matches ${pattern}`);
      files.push(...matches);
    } else if ((await stat(pattern).catch(() => null))?.isDirectory()) {
      files.push(...(await fg('*.json', { cwd: pattern, onlyFiles: true })).sort().map((f) => `${pattern.replace(/\/$/, '')}/${f}`));
    } else {
      files.push(pattern);
    }
  }
  return [...new Set(files)];
}
