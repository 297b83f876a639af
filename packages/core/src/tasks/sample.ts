import { generateTokens } from '../generation/generate.js';
import type { Model } from '@rankwise/models';
import type { Vocabulary } from '../contracts/datasets.js';

export interface SampleOptions {
  prompt: string;
  length: number;
  temperature: number;
  topK?: number;
  seed: number;
  /** The model's context length: only the last `context` tokens are fed back (a sliding window past it). */
  context: number;
}

/**
 * Samples `length` tokens after `prompt` with the model's KV cache: softmax(logits / temperature) over the top-k, drawn
 * with a seeded Rng. Id 0 is the unknown character in rankwise vocabularies, and a model's vocabSize may exceed the
 * vocabulary (ids ≥ vocab.size were never seen): neither is ever sampled.
 */
export async function sampleText(model: Model, vocab: Vocabulary, options: SampleOptions): Promise<string> {
  const ids = Array.from(vocab.encode(options.prompt));
  if (ids.length === 0) throw new Error('the sample prompt is empty');
  const unknownId = vocab.unknownId === undefined ? 0 : vocab.unknownId;
  const { tokens } = await generateTokens(model, [ids], {
    maxNewTokens: options.length,
    sample: true,
    temperature: options.temperature,
    topK: options.topK ?? 0,
    seed: options.seed,
    window: options.context,
    banned: (id) => id === unknownId || id >= vocab.size,
  });
  return vocab.decode(tokens[0]);
}
