import * as tf from '@tensorflow/tfjs';
import type { Model } from '@rankwise/models';
import type { TextArrays } from '../contracts/datasets.js';
import { Rng } from '@rankwise/models';
import { sparseSoftmaxCrossEntropy } from '../train/loss.js';
import type { TaskData } from '../contracts/task-data.js';

/** Default number of validation windows an evaluation reads (evenly spread over the split). */
export const DEFAULT_EVAL_WINDOWS = 64;

/** Start offsets of `count` windows of `span` tokens spread evenly over `length` (deterministic). */
export function windowStarts(length: number, span: number, count: number): number[] {
  const last = length - span;
  if (last < 0) throw new Error(`the text has ${length} tokens, fewer than one window of ${span}`);
  const n = Math.max(1, Math.min(count, Math.floor(length / span)));
  return Array.from({ length: n }, (_, k) => (n === 1 ? 0 : Math.round((k * last) / (n - 1))));
}

/**
 * Next-id prediction: random windows x = ids[s, s+T), y = ids[s+1, s+T+1) for training; evaluation reads evenly
 * spread windows and reports loss (nats per id), perplexity = e^loss, bitsPerChar (character vocabularies) or
 * bitsPerToken (tokenizers) = loss / ln 2, and bitsPerByte = bits per id / the corpus's UTF-8 bytes per id, which
 * compares models with different tokenizers.
 */
export function languageModelTask(
  data: TextArrays,
  context: number,
  seed: number,
  maxWindows = DEFAULT_EVAL_WINDOWS,
  unit: 'char' | 'token' = 'char',
): TaskData {
  const rng = new Rng(seed);
  const { ids } = data;
  if (ids.length < context + 2) throw new Error(`${data.name}: ${ids.length} tokens, but one training window needs ${context + 1}`);
  const windows = (starts: number[]) => {
    const x = new Int32Array(starts.length * context);
    const y = new Int32Array(starts.length * context);
    starts.forEach((s, k) => {
      x.set(ids.subarray(s, s + context), k * context);
      y.set(ids.subarray(s + 1, s + context + 1), k * context);
    });
    return { x: tf.tensor2d(x, [starts.length, context], 'int32'), y: tf.tensor2d(y, [starts.length, context], 'int32') };
  };
  return {
    name: data.name,
    size: ids.length,
    batch(batchSize) {
      return windows(Array.from({ length: batchSize }, () => rng.int(ids.length - context))); // windows of context + 1 tokens start in 0 … length − context − 1
    },
    summary: () => ({ name: data.name, examples: ids.length - context, tokens: ids.length, lossTokens: ids.length - 1, lossShare: 1, truncated: 0 }), // every window start is an example; every next token carries loss
    getSamplerState: () => ({ rng: rng.state32 }),
    setSamplerState: (state) => {
      rng.state32 = (state as { rng: number }).rng;
    },
    loss: (model: Model, x: tf.Tensor, y: tf.Tensor) => sparseSoftmaxCrossEntropy(model.forward(x), y), // logits [B, T, V]
    async evaluate(model, batchSize) {
      const starts = windowStarts(ids.length, context + 1, maxWindows);
      const perBatch = Math.max(1, Math.floor(batchSize / context));
      let total = 0;
      for (let i = 0; i < starts.length; i += perBatch) {
        const chunk = starts.slice(i, i + perBatch);
        const loss = tf.tidy(() => {
          const { x, y } = windows(chunk);
          return sparseSoftmaxCrossEntropy(model.forward(x), y);
        });
        total += (await loss.data())[0] * chunk.length;
        loss.dispose();
      }
      const nats = total / starts.length;
      const bits = nats / Math.LN2;
      const metrics: Record<string, number> = { loss: nats, perplexity: Math.exp(nats), [unit === 'token' ? 'bitsPerToken' : 'bitsPerChar']: bits };
      if (data.bytesPerToken !== undefined) metrics.bitsPerByte = bits / data.bytesPerToken;
      return { ...metrics, tokens: starts.length * context, coverage: data.coverage };
    },
  };
}
