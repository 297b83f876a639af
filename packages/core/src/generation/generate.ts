import * as tf from '@tensorflow/tfjs';
import { isCachedDecoder, type CachedDecoder, type KvCache } from '@rankwise/models';
import type { Model } from '@rankwise/models';
import { Rng } from '@rankwise/models';
import { chooseToken, GREEDY, type SamplingOptions } from './logits-processing.js';

/**
 * Lets the backend drop memory it keeps for reuse (the native backend's buffer pool), where it has such a method: the
 * cache's buffers grow by one position per step, so what they free is never reused in the same size.
 */
function releaseBackendMemory(): void {
  (tf.backend() as { releaseUnusedMemory?: () => void }).releaseUnusedMemory?.();
}

export interface GenerateOptions extends Partial<SamplingOptions> {
  maxNewTokens: number;
  /** Seeds the draws; row b of a batch draws from its own stream (fork `row<b>`), so a prompt samples the same alone or in a batch. */
  seed?: number;
  /** Token ids that end a row (the model's EOS); the stop token is kept in the output. */
  stopIds?: readonly number[];
  /** Ids never chosen (the unknown character, ids beyond the vocabulary). */
  banned?: (id: number) => boolean;
  /**
   * Longest sequence fed to the model (default its maxPositions). Past it, each step recomputes the last `window`
   * tokens from a fresh cache (a sliding window, as rankwise's evaluate samples always did).
   */
  window?: number;
  /**
   * Prompt tokens per row in one prefill pass (default: as many as keep rows × tokens ≤ 512): a long prompt batch is
   * prefilled in chunks through the cache, which bounds the activations' memory.
   */
  prefillChunk?: number;
  /** Called after every step with the token each row got (−1 for a row that had already stopped). */
  onTokens?: (tokens: readonly number[], step: number) => void | Promise<void>;
  /** Checked after every step: true stops row b (e.g. a stop string appeared in its text). */
  shouldStop?: (row: number, generated: readonly number[]) => boolean;
}

export interface Generated {
  /** New token ids of each row (stop token included). */
  tokens: number[][];
  /** Why each row ended. */
  finish: Array<'stop' | 'length'>;
  /** Wall-clock seconds of the prefill (first forward) and of the decode steps. */
  prefillSeconds: number;
  decodeSeconds: number;
  /** Seconds of each decode step (forward pass and the logits read back). */
  stepSeconds: number[];
}

/**
 * Generates from a batch of prompts (token ids) with the model's KV cache: the prompts, left-padded to one length
 * with an attention mask, are prefilled in one pass, then each step feeds one token per row. Tensors are disposed as it
 * goes (the cache included), also when a callback throws.
 */
export async function generateTokens(model: Model, prompts: ReadonlyArray<readonly number[]>, options: GenerateOptions): Promise<Generated> {
  if (!isCachedDecoder(model)) throw new Error(`generate: a ${model.architecture} model has no KV-cache decoder (language models: gpt, llama)`);
  if (prompts.length === 0) throw new Error('generate: no prompts');
  for (const [b, p] of prompts.entries()) if (p.length === 0) throw new Error(`generate: prompt ${b} has no tokens`);
  const decoder = model as Model & CachedDecoder;
  const sampling: SamplingOptions = { ...GREEDY, ...Object.fromEntries(Object.entries(options).filter(([k, v]) => k in GREEDY && v !== undefined)) };
  const window = Math.min(options.window ?? decoder.maxPositions, decoder.maxPositions);
  const rows = prompts.length;
  const rngs = prompts.map((_, b) => new Rng(options.seed ?? 0).fork(`row${b}`));
  const sequences = prompts.map((p) => [...p]);
  const generated: number[][] = prompts.map(() => []);
  const finish: Array<'stop' | 'length'> = prompts.map(() => 'length');
  const done = prompts.map(() => false);
  const stopIds = new Set(options.stopIds ?? []);
  model.eval();
  let cache: KvCache | null = null;
  let prefillSeconds = 0;
  let decodeSeconds = 0;
  const stepSeconds: number[] = [];
  /** A fresh cache over the last `window` tokens of every row (left-padded): the logits of each row's last token, [B, V]. */
  const prefill = (): tf.Tensor => {
    cache?.dispose();
    cache = decoder.createCache(rows);
    const windows = sequences.map((s) => s.slice(-window));
    const length = Math.max(...windows.map((w) => w.length));
    const ids = new Int32Array(rows * length);
    const real = windows.map((w, b) => {
      ids.set(w, b * length + length - w.length);
      return Array.from({ length }, (_, i) => i >= length - w.length);
    });
    const padded = real.some((r) => !r[0]);
    const c = cache;
    const chunk = Math.max(1, options.prefillChunk ?? Math.floor(512 / rows));
    let logits: tf.Tensor | null = null;
    for (let from = 0; from < length; from += chunk) {
      const to = Math.min(length, from + chunk);
      const part = new Int32Array(rows * (to - from));
      for (let b = 0; b < rows; b++) part.set(ids.subarray(b * length + from, b * length + to), b * (to - from));
      logits?.dispose();
      const realRows = padded ? real.map((r) => r.slice(from, to)) : undefined;
      logits = tf.tidy(() => decoder.forwardCached(tf.tensor2d(part, [rows, to - from], 'int32'), c, { realRows, lastOnly: true }).reshape([rows, -1])); // [B, V]
      if (to < length) releaseBackendMemory();
    }
    return logits!;
  };
  try {
    let start = performance.now();
    let logits = prefill();
    for (let step = 0; step < options.maxNewTokens; step++) {
      const values = await logits.data<'float32'>();
      const vocab = logits.shape[1] as number;
      logits.dispose();
      releaseBackendMemory();
      if (step === 0) prefillSeconds = (performance.now() - start) / 1000;
      else {
        stepSeconds.push((performance.now() - start) / 1000);
        decodeSeconds += stepSeconds[stepSeconds.length - 1];
      }
      const chosen = sequences.map((sequence, b) => {
        if (done[b]) return -1;
        const token = chooseToken(values.subarray(b * vocab, (b + 1) * vocab), sequence, sampling, rngs[b], options.banned);
        sequence.push(token);
        generated[b].push(token);
        if (stopIds.has(token) || options.shouldStop?.(b, generated[b])) {
          done[b] = true;
          finish[b] = 'stop';
        }
        return token;
      });
      await options.onTokens?.(chosen, step);
      if (done.every(Boolean) || step === options.maxNewTokens - 1) break;
      start = performance.now();
      if (cache!.length + 1 > window) {
        logits = prefill();
      } else {
        const next = Int32Array.from(sequences, (s) => s[s.length - 1]);
        const c: KvCache = cache!;
        logits = tf.tidy(() => decoder.forwardCached(tf.tensor2d(next, [rows, 1], 'int32'), c).reshape([rows, -1])); // [B, V]
      }
    }
  } finally {
    (cache as KvCache | null)?.dispose();
  }
  return { tokens: generated, finish, prefillSeconds, decodeSeconds, stepSeconds };
}
