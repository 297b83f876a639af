import { Option, type Command } from 'commander';
import type { SamplingOptions } from '@rankwise/core/training';
import { UsageError } from '../options.js';

export interface SamplingFlags {
  maxNewTokens?: string;
  temperature?: string;
  topK?: string;
  topP?: string;
  minP?: string;
  repetitionPenalty?: string;
  stop: string[];
  seed?: string;
  backend?: string;
  adapter: string[];
}

export interface ParsedSampling extends SamplingOptions {
  maxNewTokens: number;
  seed: number;
  stop: string[];
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** The flags generate and chat share. */
export function samplingOptions(command: Command, defaultMaxNew: number): Command {
  return command
    .option(
      '--adapter <[name=]dir>',
      'a PEFT-layout adapter directory to put on the model; repeat as name=dir for several on one base (the first is active; a prompts-file line picks one with "adapter")',
      collect,
      [],
    )
    .option('--max-new-tokens <n>', `tokens to generate at most (default ${defaultMaxNew})`)
    .option('--temperature <t>', 'sample at this temperature (> 0); 0 or absent: greedy')
    .option('--top-k <k>', 'sample among the k most likely tokens (implies sampling)')
    .option('--top-p <p>', 'nucleus sampling: the most likely tokens up to probability p, in (0, 1] (implies sampling)')
    .option('--min-p <p>', 'drop tokens below p × the top probability, in [0, 1) (implies sampling)')
    .option(
      '--repetition-penalty <r>',
      'HF repetition penalty (> 0; 1 = off): logits of tokens already seen are divided (positive) or multiplied (negative) by r',
    )
    .option('--stop <text>', 'end a completion at this text (repeatable; the text is not output)', collect, [])
    .option('--seed <n>', 'seed of the sampling draws', '0')
    .addOption(new Option('--backend <name>', 'TensorFlow.js backend (default auto)'));
}

function numberFlag(name: string, text: string | undefined, check: (v: number) => boolean, allowed: string): number | undefined {
  if (text === undefined) return undefined;
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v) || !check(v)) throw new UsageError(`--${name}: found ${JSON.stringify(text)}, allowed: ${allowed}`);
  return v;
}

/** Checks every sampling flag before anything loads. Greedy unless a temperature > 0 or top-k/top-p/min-p is given. */
export function parseSampling(flags: SamplingFlags, defaultMaxNew: number): ParsedSampling {
  const int = (v: number) => Number.isInteger(v);
  const maxNewTokens = numberFlag('max-new-tokens', flags.maxNewTokens, (v) => int(v) && v >= 1 && v <= 1 << 20, 'an integer ≥ 1') ?? defaultMaxNew;
  const temperature = numberFlag('temperature', flags.temperature, (v) => v >= 0, 'a number ≥ 0');
  const topK = numberFlag('top-k', flags.topK, (v) => int(v) && v >= 0, 'an integer ≥ 0 (0 = off)');
  const topP = numberFlag('top-p', flags.topP, (v) => v > 0 && v <= 1, 'a number in (0, 1]');
  const minP = numberFlag('min-p', flags.minP, (v) => v >= 0 && v < 1, 'a number in [0, 1)');
  const repetitionPenalty = numberFlag('repetition-penalty', flags.repetitionPenalty, (v) => v > 0, 'a number > 0') ?? 1;
  const seed = numberFlag('seed', flags.seed, (v) => int(v) && v >= 0, 'an integer ≥ 0') ?? 0;
  if (flags.stop.some((s) => s === '')) throw new UsageError('--stop: found "", allowed: a non-empty text');
  const sample = temperature === undefined ? topK !== undefined || topP !== undefined || minP !== undefined : temperature > 0;
  return {
    sample,
    temperature: temperature && temperature > 0 ? temperature : 1,
    topK: topK ?? 0,
    topP: topP ?? 1,
    minP: minP ?? 0,
    repetitionPenalty,
    maxNewTokens,
    seed,
    stop: flags.stop,
  };
}
