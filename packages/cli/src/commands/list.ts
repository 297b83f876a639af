import { readFile } from 'node:fs/promises';
import fg from 'fast-glob';
import { architectureNames, type Rankwise } from '@rankwise/core';
import { EXIT, type ExitCode } from '../exit-codes.js';

/** Pipelines under pipelines/ (or the given globs), installed placement plugins, zoo architectures. */
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
  const plugins = await rankwise.plugins.installed();
  console.log(`placement plugins (${plugins.length}):`);
  for (const p of plugins) console.log(`  ${p.name}${p.version ? `@${p.version}` : ''}  ${p.description}`);
  console.log(`architectures: ${architectureNames().join(', ')}`);
  return EXIT.ok;
}
