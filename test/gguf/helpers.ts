import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { Model } from '@rankwise/models';

export const HF_TINY = resolve('test/fixtures/hf/llama-tiny');
export const GGUF_FIXTURES = resolve('test/fixtures/gguf');

/** tokenizer.json + tokenizer_config.json of a model directory. */
export function tokenizerOf(dir: string): { tokenizer: Record<string, unknown>; config: Record<string, unknown> } {
  return {
    tokenizer: JSON.parse(readFileSync(resolve(dir, 'tokenizer.json'), 'utf8')),
    config: JSON.parse(readFileSync(resolve(dir, 'tokenizer_config.json'), 'utf8')),
  };
}

/** log-softmax of rankwise's logits for one sequence: [T][V]. */
export async function logProbs(model: Model, ids: number[]): Promise<number[][]> {
  model.eval();
  const out = tf.tidy(() => tf.logSoftmax(model.forward(tf.tensor2d(ids, [1, ids.length], 'int32'))).squeeze([0]));
  const values = (await out.array()) as number[][];
  out.dispose();
  return values;
}

/** rankwise's greedy continuation of `ids` (argmax, `n` tokens, full recompute per token). */
export async function greedy(model: Model, ids: number[], n: number): Promise<number[]> {
  const seq = [...ids];
  for (let i = 0; i < n; i++) {
    const next = tf.tidy(() =>
      model
        .forward(tf.tensor2d(seq, [1, seq.length], 'int32'))
        .slice([0, seq.length - 1, 0], [1, 1, -1])
        .reshape([-1])
        .argMax(),
    );
    seq.push((await next.data())[0]);
    next.dispose();
  }
  return seq.slice(ids.length);
}
