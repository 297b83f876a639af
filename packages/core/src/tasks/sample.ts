import * as tf from '@tensorflow/tfjs';
import type { Model } from '../nn/model.js';
import type { Vocabulary } from '../contracts/datasets.js';
import { Rng } from '../random.js';

export interface SampleOptions {
  prompt: string;
  length: number;
  temperature: number;
  topK?: number;
  seed: number;
  /** The model's context length: only the last `context` characters are fed back. */
  context: number;
}

/** Samples `length` characters after `prompt`: softmax(logits / temperature) over the top-k, drawn with a seeded Rng. */
export async function sampleText(model: Model, vocab: Vocabulary, options: SampleOptions): Promise<string> {
  const rng = new Rng(options.seed);
  const ids = Array.from(vocab.encode(options.prompt));
  if (ids.length === 0) throw new Error('the sample prompt is empty');
  model.eval();
  for (let n = 0; n < options.length; n++) {
    const window = ids.slice(-options.context);
    const logits = tf.tidy(() => {
      const out = model.forward(tf.tensor2d(window, [1, window.length], 'int32')); // [1, T, V]
      return out.slice([0, window.length - 1, 0], [1, 1, -1]).reshape([-1]); // [V]
    });
    const values = await logits.data();
    logits.dispose();
    ids.push(pick(values, vocab.size, vocab.unknownId === undefined ? 0 : vocab.unknownId, options.temperature, options.topK, rng));
  }
  return vocab.decode(ids.slice(vocab.encode(options.prompt).length));
}

/**
 * Id 0 is the unknown character in rankwise vocabularies, and a model's vocabSize may exceed the vocabulary
 * (ids ≥ vocab.size were never seen): neither is ever sampled.
 */
function pick(logits: ArrayLike<number>, vocabSize: number, unknownId: number | null, temperature: number, topK: number | undefined, rng: Rng): number {
  const order = Array.from(logits, (v, i) => [v / temperature, i] as const)
    .filter(([, i]) => i !== unknownId && i < vocabSize)
    .sort((a, b) => b[0] - a[0]);
  const kept = topK === undefined ? order : order.slice(0, topK);
  const max = kept[0][0];
  const weights = kept.map(([v]) => Math.exp(v - max));
  const total = weights.reduce((a, b) => a + b, 0);
  let u = rng.next() * total;
  for (let k = 0; k < kept.length; k++) {
    u -= weights[k];
    if (u <= 0) return kept[k][1];
  }
  return kept[kept.length - 1][1];
}
