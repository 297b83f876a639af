import type { Vocabulary } from '../contracts/datasets.js';
import type { Model } from '@rankwise/models';
import { generateTokens, type GenerateOptions } from './generate.js';
import { TextStream } from './text-stream.js';

export interface TextGenerationOptions extends Omit<GenerateOptions, 'onTokens' | 'shouldStop' | 'banned' | 'stopIds'> {
  /** Strings that end a completion (not included in it). */
  stop?: readonly string[];
  /** Prompts per forward pass (left-padded to one length). */
  batchSize?: number;
  /** Called with each row's newly safe text as tokens arrive (`index` counts over all prompts). */
  onText?: (index: number, text: string) => void;
  /** Called when a batch is done: prompts finished so far, and generated tokens / second of that batch. */
  onBatch?: (done: number, total: number, tokensPerSecond: number) => void;
}

export interface Completion {
  text: string;
  /** Tokens generated (up to and including a stop token; a stop string's tokens included). */
  tokens: number;
  finish: 'stop' | 'length';
}

/** The model's end-of-sequence ids: a Llama-family checkpoint's eos_token_id (config.json, number or list); none for character models. */
export function eosIds(model: Model): number[] {
  const eos = (model.config as { hf_extra?: { eos_token_id?: unknown } }).hf_extra?.eos_token_id;
  if (typeof eos === 'number') return [eos];
  if (Array.isArray(eos)) return eos.filter((id): id is number => typeof id === 'number');
  return [];
}

/** Ids a vocabulary never produces: the unknown character of rankwise vocabularies, ids beyond the vocabulary. */
export function bannedIds(vocab: Vocabulary): (id: number) => boolean {
  const unknownId = vocab.unknownId === undefined ? 0 : vocab.unknownId;
  return (id) => id === unknownId || id >= vocab.size;
}

/** Completions of text prompts, `batchSize` at a time, with stop strings and the model's EOS. */
export async function generateTexts(model: Model, vocab: Vocabulary, prompts: readonly string[], options: TextGenerationOptions): Promise<Completion[]> {
  const batchSize = options.batchSize ?? 8;
  const out: Completion[] = [];
  const eos = eosIds(model);
  for (let start = 0; start < prompts.length; start += batchSize) {
    const batch = prompts.slice(start, start + batchSize);
    const ids = batch.map((p, b) => {
      const encoded = Array.from(vocab.encode(p));
      if (encoded.length === 0) throw new Error(`prompt ${start + b + 1} encodes to no tokens`);
      return encoded;
    });
    const streams = batch.map(() => new TextStream((t) => vocab.decode(t.filter((id) => !eos.includes(id))), options.stop ?? []));
    const t0 = performance.now();
    const result = await generateTokens(model, ids, {
      ...options,
      stopIds: eos,
      banned: bannedIds(vocab),
      onTokens: (tokens) => {
        tokens.forEach((id, b) => {
          if (id < 0) return;
          const text = streams[b].push(id);
          if (text) options.onText?.(start + b, text);
        });
      },
      shouldStop: (b) => streams[b].stopped,
    });
    streams.forEach((s, b) => {
      const rest = s.flush();
      if (rest) options.onText?.(start + b, rest);
      out.push({ text: s.text, tokens: result.tokens[b].length, finish: result.finish[b] });
    });
    const generated = result.tokens.reduce((n, t) => n + t.length, 0);
    options.onBatch?.(out.length, prompts.length, generated / ((performance.now() - t0) / 1000));
  }
  return out;
}
