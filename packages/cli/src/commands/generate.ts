import { resolve } from 'node:path';
import { chatFormat, generateTexts, readPromptsFile, resolveBackend, type BackendRequest } from '@rankwise/core';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { openModel } from '../generate/open-model.js';
import { parseSampling, type SamplingFlags } from '../generate/sampling-flags.js';
import { UsageError } from '../options.js';

export interface GenerateFlags extends SamplingFlags {
  prompt?: string;
  promptFile?: string;
  batchSize?: string;
  quiet?: boolean;
}

export const GENERATE_DEFAULT_MAX_NEW = 128;

/** Where the commands write: stdout (the text) and stderr (log lines); tests pass their own. */
export interface CommandOutput {
  out(text: string): void;
  err(text: string): void;
}

export const PROCESS_OUTPUT: CommandOutput = { out: (text) => process.stdout.write(text), err: (text) => process.stderr.write(text) };

/**
 * `rankwise generate <model> --prompt "…"`: the completion streams to stdout as tokens arrive, timings to stderr.
 * `--prompt-file f.jsonl`: one JSON line out per line in ({…in, "completion", "tokens", "finish"}), `--batch-size` prompts per pass.
 */
export async function generateCommand(modelPath: string, flags: GenerateFlags, io: CommandOutput = PROCESS_OUTPUT): Promise<ExitCode> {
  if ((flags.prompt === undefined) === (flags.promptFile === undefined)) throw new UsageError('give exactly one of --prompt "text" and --prompt-file f.jsonl');
  if (flags.prompt === '') throw new UsageError('--prompt: found "", allowed: a non-empty text');
  const sampling = parseSampling(flags, GENERATE_DEFAULT_MAX_NEW);
  const batchSize = flags.batchSize === undefined ? 8 : Number(flags.batchSize);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 1024) throw new UsageError(`--batch-size: found ${JSON.stringify(flags.batchSize)}, allowed: an integer from 1 to 1024`);
  const lines = flags.promptFile !== undefined ? await readPromptsFile(resolve(flags.promptFile)).catch((error: Error) => {
    throw new UsageError(error.message);
  }) : null;
  await resolveBackend((flags.backend ?? 'auto') as BackendRequest);
  const { model, vocab, modelDir, origin } = await openModel(resolve(modelPath), flags.adapter.map((a) => resolve(a)), sampling.seed);
  const log = (text: string) => {
    if (!flags.quiet) io.err(`${text}\n`);
  };
  log(`generate: ${origin}`);
  try {
    if (lines === null) {
      await generateTexts(model, vocab, [flags.prompt!], {
        ...sampling,
        onText: (_, text) => io.out(text),
        onBatch: (_, __, tokensPerSecond) => {
          io.out('\n');
          log(`generate: ${tokensPerSecond.toFixed(1)} tokens/s (prefill included)`);
        },
      });
      return EXIT.ok;
    }
    const chat = lines.some((l) => l.messages) ? await chatFormat(modelDir) : null;
    const prompts = lines.map((l) => l.prompt ?? chat!.render(l.messages!));
    const stop = chat ? [...sampling.stop, ...chat.stops] : sampling.stop;
    const completions = await generateTexts(model, vocab, prompts, {
      ...sampling,
      stop,
      batchSize,
      onBatch: (done, total, tokensPerSecond) => log(`generate: ${done}/${total} prompts, ${tokensPerSecond.toFixed(1)} tokens/s`),
    });
    completions.forEach((c, i) => {
      const line = lines[i];
      io.out(`${JSON.stringify({ ...line.extra, ...(line.prompt !== undefined ? { prompt: line.prompt } : { messages: line.messages }), completion: c.text, tokens: c.tokens, finish: c.finish })}\n`);
    });
    return EXIT.ok;
  } finally {
    model.dispose();
  }
}
