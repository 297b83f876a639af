import { stat } from 'node:fs/promises';
import fg from 'fast-glob';
import { UsageError } from './options.js';

/** JSON files of other tools that a glob or folder can match but that are never pipelines. */
const OTHER_TOOLS_JSON =
  /^(package|package-lock|npm-shrinkwrap|tsconfig(\..+)?|jsconfig|biome|\.eslintrc|lerna|nx|turbo|vercel|renovate|bower|composer|deno|components|adapter_config|tokenizer|tokenizer_config|special_tokens_map|generation_config|model\.safetensors\.index)\.json$/;

/** Folders a pipeline search never enters. */
export const NOT_SEARCHED = ['**/node_modules/**', '**/.git/**', '**/dist/**', '**/runs/**', '**/dist-packages/**'];

/** Whether a file a glob matched can be a pipeline by its name (package.json, tsconfig.json, … cannot). */
export function mayBePipeline(file: string): boolean {
  return !OTHER_TOOLS_JSON.test(file.split('/').pop() ?? file);
}

/**
 * Expands globs (`pipelines/*.json`) and folders (their `*.json`); plain paths pass through even when missing, so
 * validation reports them. A glob that matches nothing or a folder without pipelines is a UsageError (exit 2).
 */
export async function expandFiles(patterns: readonly string[], cwd = process.cwd()): Promise<string[]> {
  const files: string[] = [];
  for (const pattern of patterns) {
    if (fg.isDynamicPattern(pattern)) {
      const matches = (await fg(pattern, { cwd, onlyFiles: true, ignore: NOT_SEARCHED })).filter(mayBePipeline).sort();
      if (matches.length === 0) throw new UsageError(`${pattern}: no file matches this glob (from ${cwd})`);
      files.push(...matches);
    } else if ((await stat(pattern).catch(() => null))?.isDirectory()) {
      const folder = pattern.replace(/\/$/, '');
      const found = (await fg('*.json', { cwd: pattern, onlyFiles: true })).filter(mayBePipeline).sort();
      if (found.length === 0) throw new UsageError(`${folder}: a folder with no pipeline files (*.json) in it`);
      files.push(...found.map((f) => `${folder}/${f}`));
    } else {
      files.push(pattern);
    }
  }
  return [...new Set(files)];
}
