import { resolve } from 'node:path';
import { resolveBackend, withAdapter, type BackendRequest } from '@rankwise/core';
import { chatFormat, generateTexts, readPromptsFile } from '@rankwise/core/training';
import { adapterNames } from '@rankwise/lora';
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
 * `--prompt-file f.jsonl`: one JSON line out per line in ({…in, "completion", "tokens", "finish"}), `--batch-size` prompts per pass;
 * a line's "adapter" picks one of several `--adapter name=dir` adapters for that request (withAdapter).
 */
export async function generateCommand(modelPath: string, flags: GenerateFlags, io: CommandOutput = PROCESS_OUTPUT): Promise<ExitCode> {
  if ((flags.prompt === undefined) === (flags.promptFile === undefined)) throw new UsageError('give exactly one of --prompt "text" and --prompt-file f.jsonl');
  if (flags.prompt === '') throw new UsageError('--prompt: found "", allowed: a non-empty text');
  const sampling = parseSampling(flags, GENERATE_DEFAULT_MAX_NEW);
  const batchSize = flags.batchSize === undefined ? 8 : Number(flags.batchSize);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 1024)
    throw new UsageError(`--batch-size: found ${JSON.stringify(flags.batchSize)}, allowed: an integer from 1 to 1024`);
  const lines =
    flags.promptFile !== undefined
      ? await readPromptsFile(resolve(flags.promptFile)).catch((error: Error) => {
          throw new UsageError(error.message);
        })
      : null;
  await resolveBackend((flags.backend ?? 'auto') as BackendRequest);
  const { model, vocab, modelDir, origin } = await openModel(resolve(modelPath), flags.adapter, sampling.seed);
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
    // A line's "adapter" picks one of the --adapter names for that request (null: the base model); lines without it use
    // the active adapter. Each group runs under withAdapter; the output keeps the input order.
    const known = adapterNames(model);
    const groups = new Map<string | null | undefined, number[]>();
    lines.forEach((line, i) => {
      const adapter = line.extra.adapter as unknown;
      if (adapter !== undefined && adapter !== null && (typeof adapter !== 'string' || !known.includes(adapter))) {
        throw new UsageError(
          `${flags.promptFile}: line ${i + 1}: /adapter: found ${JSON.stringify(adapter)}; allowed: ${[...known.map((n) => JSON.stringify(n)), 'null (the base model)'].join(', ')} (load adapters with --adapter name=dir)`,
        );
      }
      groups.set(adapter as string | null | undefined, [...(groups.get(adapter as string | null | undefined) ?? []), i]);
    });
    const completions: Awaited<ReturnType<typeof generateTexts>> = new Array(lines.length);
    for (const [adapter, indices] of groups) {
      const run = () =>
        generateTexts(
          model,
          vocab,
          indices.map((i) => prompts[i]),
          {
            ...sampling,
            stop,
            batchSize,
            onBatch: (done, total, tokensPerSecond) =>
              log(
                `generate: ${groups.size > 1 ? `adapter ${adapter === undefined ? 'active' : (adapter ?? 'none')}: ` : ''}${done}/${total} prompts, ${tokensPerSecond.toFixed(1)} tokens/s`,
              ),
          },
        );
      const out = adapter === undefined || (adapter === null && known.length === 0) ? await run() : await withAdapter(model, adapter, run);
      indices.forEach((i, k) => (completions[i] = out[k]));
    }
    completions.forEach((c, i) => {
      const line = lines[i];
      io.out(
        `${JSON.stringify({ ...line.extra, ...(line.prompt !== undefined ? { prompt: line.prompt } : { messages: line.messages }), completion: c.text, tokens: c.tokens, finish: c.finish })}\n`,
      );
    });
    return EXIT.ok;
  } finally {
    model.dispose();
  }
}
