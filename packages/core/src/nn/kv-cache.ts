import * as tf from '@tensorflow/tfjs';

/** What one cached forward pass needs besides the token ids: where the new tokens sit and what they may read. */
export interface CacheStep {
  /** New tokens per row. */
  t: number;
  /** Keys after this step (cached + new). */
  total: number;
  /** Position id of each new token, [B·T] row-major: the number of real tokens before it in its row (Hugging Face's cumsum(mask) − 1; padding gets 1). */
  positions: Int32Array;
  /** Additive attention mask [B, 1, T, total] (0 readable, −1e9 not), or null when every key is readable (no padding, one new token). */
  mask: tf.Tensor4D | null;
  /**
   * Tensors every layer of this step shares (rotary tables of the step's positions), made once by the first layer
   * that asks and disposed by `end()`.
   */
  shared(key: string, make: () => tf.Tensor): tf.Tensor;
}

/**
 * The keys and values a decoder has computed, per layer ([B, heads, S, head_dim] each), and which cached positions of
 * each row are real tokens (left padding makes the rows of a batch start at different positions). A forward pass with
 * the cache computes only the new positions: prefill once, then one token per step.
 */
export class KvCache {
  private readonly keys: Array<tf.Tensor | null>;
  private readonly values: Array<tf.Tensor | null>;
  /** real[b][j]: position j of row b is a real token (true) or padding (false). */
  private readonly real: boolean[][];
  private current: CacheStep | null = null;
  private memo: Map<string, tf.Tensor> | null = null;

  constructor(
    readonly batch: number,
    readonly layers: number,
  ) {
    this.keys = Array.from({ length: layers }, () => null);
    this.values = Array.from({ length: layers }, () => null);
    this.real = Array.from({ length: batch }, () => []);
  }

  /** Cached positions S (padding included). */
  get length(): number {
    return this.real[0].length;
  }

  /** Real tokens cached in row b. */
  realTokens(b: number): number {
    return this.real[b].reduce((n, r) => n + (r ? 1 : 0), 0);
  }

  /**
   * Starts a forward pass over `t` new tokens per row; `realRows[b][i]` says whether new token i of row b is real
   * (omitted: all are). The returned step holds a mask tensor: call `end()` after the pass (it disposes it).
   */
  begin(t: number, realRows?: ReadonlyArray<ArrayLike<boolean | number>>): CacheStep {
    if (this.current) throw new Error('KvCache.begin: the previous step was not ended');
    if (realRows && realRows.length !== this.batch) throw new Error(`KvCache.begin: ${realRows.length} mask rows for a batch of ${this.batch}`);
    const s = this.length;
    const total = s + t;
    const positions = new Int32Array(this.batch * t);
    let needMask = t > 1;
    for (let b = 0; b < this.batch; b++) {
      const row = this.real[b];
      let seen = this.realTokens(b);
      for (let i = 0; i < t; i++) {
        const isReal = realRows ? Boolean(realRows[b][i]) : true;
        positions[b * t + i] = isReal ? seen : 1;
        if (isReal) seen += 1;
        row.push(isReal);
      }
      if (!needMask && row.some((r) => !r)) needMask = true;
    }
    let mask: tf.Tensor4D | null = null;
    if (needMask) {
      const values = new Float32Array(this.batch * t * total);
      for (let b = 0; b < this.batch; b++) {
        const row = this.real[b];
        for (let i = 0; i < t; i++) {
          const base = (b * t + i) * total;
          for (let j = 0; j < total; j++) if (j > s + i || !row[j]) values[base + j] = -1e9;
        }
      }
      mask = tf.tensor4d(values, [this.batch, 1, t, total]);
    }
    const memo = new Map<string, tf.Tensor>();
    this.memo = memo;
    const shared = (key: string, make: () => tf.Tensor): tf.Tensor => {
      let value = memo.get(key);
      if (!value) {
        value = tf.keep(make());
        memo.set(key, value);
      }
      return value;
    };
    this.current = { t, total, positions, mask, shared };
    return this.current;
  }

  /** Appends the new keys and values of `layer` ([B, heads, T, hd]) and returns all of them ([B, heads, S + T, hd]); the cache keeps them. */
  append(layer: number, k: tf.Tensor, v: tf.Tensor): { k: tf.Tensor; v: tf.Tensor } {
    const oldK = this.keys[layer];
    const oldV = this.values[layer];
    const allK = tf.keep(oldK ? tf.concat([oldK, k], 2) : k.clone()); // [B, heads, S + T, hd]
    const allV = tf.keep(oldV ? tf.concat([oldV, v], 2) : v.clone()); // [B, heads, S + T, hd]
    oldK?.dispose();
    oldV?.dispose();
    this.keys[layer] = allK;
    this.values[layer] = allV;
    return { k: allK, v: allV };
  }

  /** Ends the pass `begin` started. */
  end(): void {
    this.current?.mask?.dispose();
    for (const t of this.memo?.values() ?? []) t.dispose();
    this.memo = null;
    this.current = null;
  }

  /** Disposes every cached tensor. */
  dispose(): void {
    this.end();
    for (const t of [...this.keys, ...this.values]) t?.dispose();
    this.keys.fill(null);
    this.values.fill(null);
    for (const row of this.real) row.length = 0;
  }
}

/** A language model that decodes with a KV cache. */
export interface CachedDecoder {
  /** Longest position id + 1 the model has embeddings for (learned positions) or was trained for (rotary). */
  readonly maxPositions: number;
  /** A fresh cache for `batch` rows. */
  createCache(batch: number): KvCache;
  /**
   * ids [B, T] (int32) of new tokens → logits [B, T, V] (or [B, 1, V] with `lastOnly`), reading and extending `cache`.
   * `realRows[b][i]` marks padding among the new tokens (left padding of a prompt batch).
   */
  forwardCached(ids: tf.Tensor, cache: KvCache, options?: { realRows?: ReadonlyArray<ArrayLike<boolean | number>>; lastOnly?: boolean }): tf.Tensor;
}

export function isCachedDecoder(model: object): model is CachedDecoder {
  return typeof (model as Partial<CachedDecoder>).forwardCached === 'function' && typeof (model as Partial<CachedDecoder>).createCache === 'function';
}

/** Runs `forward` between `cache.begin` and `cache.end`, also when it throws. */
export function withCacheStep<T>(cache: KvCache, t: number, realRows: ReadonlyArray<ArrayLike<boolean | number>> | undefined, forward: (step: CacheStep) => T): T {
  const step = cache.begin(t, realRows);
  try {
    return forward(step);
  } finally {
    cache.end();
  }
}
