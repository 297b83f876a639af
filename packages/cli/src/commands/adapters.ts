import { readdir } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { combineAdapterFolders, parseAdapterSpec } from '@rankwise/formats';
import { CombineError, COMBINATION_TYPES, type CombinationType, type MajoritySignMethod } from '@rankwise/lora';
import type { Command } from 'commander';
import { EXIT, type ExitCode } from '../exit-codes.js';

export interface CombineFlags {
  adapter: string[];
  weights: string;
  out: string;
  combination?: string;
  density?: string;
  majoritySign?: string;
  svdRank?: string;
  svdClamp?: string;
  seed?: string;
}

/** Which flag each option of lora/combine.ts comes from, for error messages. */
const FLAGS: Record<string, string> = {
  '/adapters': '--adapter',
  '/weights': '--weights',
  '/combination': '--combination',
  '/density': '--density',
  '/majoritySign': '--majority-sign',
  '/svdRank': '--svd-rank',
  '/svdClamp': '--svd-clamp',
  '/seed': '--seed',
  '/name': '--out',
};

class FlagError extends Error {}

function number(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value)) throw new FlagError(`${flag}: found ${JSON.stringify(text)}; allowed: a number`);
  return value;
}

/**
 * `rankwise adapters combine --adapter sql=./a --adapter chat=./b --weights 0.7,0.3 --combination ties --density 0.5
 * --out ./mix`: PEFT's add_weighted_adapter on adapter folders (no base model needed), the result a new PEFT adapter.
 * Exit 2 for invalid input (flags, adapter folders, a combination PEFT's rules refuse), 1 when writing fails.
 */
export async function combineCommand(flags: CombineFlags): Promise<ExitCode> {
  let sources: Array<{ name: string; dir: string }>;
  let options;
  const out = resolve(flags.out);
  try {
    sources = flags.adapter.map((spec) => {
      try {
        return parseAdapterSpec(spec, { requireName: true });
      } catch (error) {
        throw new FlagError(`--adapter: ${(error as Error).message}`);
      }
    });
    if (sources.length === 0) throw new FlagError('--adapter: give one or more <name>=<adapter folder>');
    const weights = flags.weights.split(',').map((w) => number('--weights', w)!);
    const combination = flags.combination as CombinationType | undefined;
    if (combination !== undefined && !COMBINATION_TYPES.includes(combination))
      throw new FlagError(`--combination: found ${JSON.stringify(combination)}; allowed: ${COMBINATION_TYPES.join(', ')}`);
    options = {
      adapters: sources.map((s) => s.name),
      weights,
      combination,
      density: number('--density', flags.density),
      majoritySign: flags.majoritySign as MajoritySignMethod | undefined,
      svdRank: number('--svd-rank', flags.svdRank),
      svdClamp: number('--svd-clamp', flags.svdClamp),
      seed: number('--seed', flags.seed),
    };
    const existing = await readdir(out).catch((error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? [] : Promise.reject(error)));
    if (existing.length > 0) throw new FlagError(`--out: ${flags.out} exists and is not empty; allowed: a new or empty folder`);
  } catch (error) {
    console.error(`✖ ${(error as Error).message}`);
    return EXIT.invalid;
  }
  const name =
    basename(out)
      .replace(/[^A-Za-z0-9_-]/g, '-')
      .slice(0, 64) || 'combined';
  try {
    const sites = await combineAdapterFolders(name, sources, options, out);
    const ranks = [...new Set(sites.map((s) => s.r))].join('/');
    console.log(
      `wrote ${flags.out}: ${options.combination ?? 'svd'} of ${sources.map((s, i) => `${options.weights[i]}·${s.name}`).join(' + ')}, ${sites.length} sites, rank ${ranks}`,
    );
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CombineError) {
      const flag = Object.entries(FLAGS).find(([pointer]) => error.pointer === pointer || error.pointer.startsWith(`${pointer}/`))?.[1] ?? error.pointer;
      console.error(`✖ ${flag}: ${error.detail}`);
      return EXIT.invalid;
    }
    // Reading the sources (missing folders, PEFT config / weight errors) is input validation; nothing was written yet.
    const message = (error as Error).message;
    console.error(`✖ ${message}`);
    return /^cannot write|EACCES|ENOSPC/.test(message) ? EXIT.failed : EXIT.invalid;
  }
}

/** Registers `rankwise adapters combine`. */
export function adaptersCommand(program: Command, done: (code: ExitCode) => void): void {
  const adapters = program.command('adapters').description("work with PEFT adapters: combine several into one (PEFT's add_weighted_adapter)");
  adapters
    .command('combine')
    .description(
      "combine PEFT adapters into a new one with PEFT's rules (linear, cat, svd, ties, dare_linear, dare_ties, magnitude_prune, *_svd); no base model needed",
    )
    .requiredOption(
      '--adapter <name=dir>',
      'a source adapter folder and its name (repeat, in order)',
      (value: string, previous: string[]) => [...previous, value],
      [],
    )
    .requiredOption('--weights <list>', 'one weight per adapter, comma-separated (may be negative), e.g. 0.7,0.3')
    .requiredOption('--out <dir>', 'where to write the combined adapter (a new or empty folder)')
    .option('--combination <type>', `${COMBINATION_TYPES.join(', ')} (default svd, as PEFT)`)
    .option('--density <fraction>', 'ties, dare_*, magnitude_prune (and *_svd): the fraction of values kept, 0 to 1')
    .option('--majority-sign <method>', 'ties, dare_ties (and *_svd): total (default) or frequency')
    .option('--svd-rank <r>', 'svd types: the new rank (default: the largest source rank)')
    .option('--svd-clamp <q>', "svd types: PEFT's svd_clamp, clamp the new factors to ± their q-quantile (q in [0, 1])")
    .option('--seed <n>', 'dare types: the seed of the random keep-masks (default 0)')
    .action(async (flags: CombineFlags) => {
      done(await combineCommand(flags));
    });
}
