import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';
import fg from 'fast-glob';
import { architectureNames, type Rankwise } from '@rankwise/core';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { mayBePipeline, NOT_SEARCHED } from '../expand-files.js';

type PipelineLike = { name?: string; description?: string; stages?: Array<{ stage?: string }>; grid?: unknown };

/** Reads a JSON file that names itself a pipeline (an object with a `stages` list), else null. */
async function readPipelineLike(file: string): Promise<PipelineLike | Error | null> {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    return error as Error;
  }
  return typeof value === 'object' && value !== null && Array.isArray((value as PipelineLike).stages) ? (value as PipelineLike) : null;
}

/**
 * Pipelines in this project (every `*.json` with a `stages` list, the root included; never package.json, lock
 * files, tsconfig.json, node_modules, dist or runs) or in the given globs, plugins a pipeline here can use, zoo
 * architectures.
 */
export async function listCommand(rankwise: Rankwise, patterns: string[]): Promise<ExitCode> {
  const candidates = (await fg(patterns.length ? patterns : ['**/*.json'], { onlyFiles: true, ignore: NOT_SEARCHED })).filter(mayBePipeline).sort();
  const found = await Promise.all(candidates.map(async (file) => ({ file, read: await readPipelineLike(file) })));
  // a file the user named by glob is listed even when unreadable; a project search lists only pipelines
  const files = found.filter(({ read }) => read !== null && (patterns.length > 0 || !(read instanceof Error)));
  console.log(`pipelines (${files.length}):`);
  for (const { file, read } of files) {
    try {
      if (read instanceof Error) throw read;
      const p = read!;
      const stages = (p.stages ?? []).map((s) => s.stage).join(' → ');
      console.log(`  ${file}  ${p.name ?? '?'}${p.grid ? ' [grid]' : ''}: ${stages}${p.description ? `\n      ${p.description}` : ''}`);
    } catch (error) {
      console.log(`  ${file}  (unreadable: ${(error as Error).message})`);
    }
  }
  // The same search a pipeline in this folder gets: ./node_modules upwards, then the CLI's install.
  const plugins = await rankwise.plugins.installed(process.cwd());
  console.log(`plugins (${plugins.length}):`);
  for (const p of plugins) {
    const where = p.location === 'registered' ? p.location : relative(process.cwd(), p.location) || '.';
    console.log(`  ${p.name}${p.version ? `@${p.version}` : ''}  ${p.description}\n      from ${where}`);
  }
  console.log(`architectures: ${architectureNames().join(', ')}`);
  return EXIT.ok;
}
