import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';
import fg from 'fast-glob';
import { architectureNames, type Rankwise } from '@rankwise/core';
import { EXIT, type ExitCode } from '../exit-codes.js';

/** Pipelines under pipelines/ (or the given globs), plugins a pipeline here can use, zoo architectures. */
export async function listCommand(rankwise: Rankwise, patterns: string[]): Promise<ExitCode> {
  const files = (await fg(patterns.length ? patterns : ['pipelines/**/*.json'], { onlyFiles: true })).sort();
  console.log(`pipelines (${files.length}):`);
  for (const file of files) {
    try {
      const p = JSON.parse(await readFile(file, 'utf8')) as { name?: string; description?: string; stages?: Array<{ stage?: string }>; grid?: unknown };
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
