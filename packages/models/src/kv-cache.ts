import * as tf from '@tensorflow/tfjs';

/** Cached keys and values of consecutive positions, [B, heads, S_block, hd] each. */
export interface KvBlock {
  k: tf.Tensor;
  v: tf.Tensor;
}

/** Decode steps gathered in the tail block before it joins the base. */
const TAIL_POSITIONS = 64;

/**
 * Disposes a block and lets the backend return its memory now where it can (the native backend's
 * `disposeAndRelease`): a block replaced by a longer one never comes back in the same size, so a buffer pool would only
 * hold it, and the garbage collector frees it late — across 30 layers that is the cache's size again in dead buffers.
 */
function disposeBlock(block: KvBlock | null): void {
  if (!block) return;
  const backend = tf.backend() as { disposeAndRelease?: (tensors: readonly tf.Tensor[]) => void };
  if (backend.disposeAndRelease) backend.disposeAndRelease([block.k, block.v]);
  else {
    block.k.dispose();
    block.v.dispose();
  }
}

/**
 * softmax(q·Kᵀ·scale + mask)·V over the blocks of the cache, as if K and V were one tensor. q [B, H, R, hd], blocks
 * [B, H, S_i, hd] → [B, H, R, hd]; `mask` adds the additive mask to the joined scores [B, H, R, ΣS_i] (or returns
 * them as they are). Without a mask, two blocks share one softmax through their common maximum and sum (no slicing of
 * the weights: tfjs slices along the last axis element by element in JavaScript); with a mask, the blocks are joined.
 */
export function attendBlocks(q: tf.Tensor, blocks: readonly KvBlock[], scale: number, mask: ((scores: tf.Tensor) => tf.Tensor) | null): tf.Tensor {
  return tf.tidy(() => {
    if (blocks.length === 1 || mask) {
      // Each [B, H, R, S] intermediate is disposed as soon as the next exists, so a prefill chunk holds two at a time
      // (the backend's pool reuses their buffers) instead of four until the layer ends.
      const joined = blocks.length > 1;
      const k = joined
        ? tf.concat(
            blocks.map((b) => b.k),
            2,
          )
        : blocks[0].k; // [B, H, S, hd]
      const product = tf.matMul(q, k, false, true); // [B, H, R, hd]·[B, H, hd, S] → [B, H, R, S]
      if (joined) k.dispose();
      const scores = product.mul(scale);
      product.dispose();
      const masked = mask ? mask(scores) : scores;
      if (masked !== scores) scores.dispose();
      const weights = tf.softmax(masked, -1);
      masked.dispose();
      const v = joined
        ? tf.concat(
            blocks.map((b) => b.v),
            2,
          )
        : blocks[0].v; // [B, H, S, hd]
      const out = tf.matMul(weights, v); // [B, H, R, S]·[B, H, S, hd] → [B, H, R, hd]
      weights.dispose();
      if (joined) v.dispose();
      return out;
    }
    const scores = blocks.map((b) => tf.matMul(q, b.k, false, true).mul(scale)); // [B, H, R, hd]·[B, H, hd, S_i] → [B, H, R, S_i]
    const max = scores.map((s) => s.max(-1, true)).reduce((a, b) => tf.maximum(a, b)); // [B, H, R, 1]
    const exps = scores.map((s) => tf.exp(s.sub(max))); // [B, H, R, S_i]
    const total = exps.map((e) => e.sum(-1, true)).reduce((a, b) => a.add(b)); // [B, H, R, 1]
    const mixed = exps.map((e, i) => tf.matMul(e, blocks[i].v)).reduce((a, b) => a.add(b)); // Σ [B, H, R, S_i]·[B, H, S_i, hd] → [B, H, R, hd]
    return mixed.div(total);
  });
}

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
  private readonly base: Array<KvBlock | null>;
  private readonly tail: Array<KvBlock | null>;
  /** real[b][j]: position j of row b is a real token (true) or padding (false). */
  private readonly real: boolean[][];
  private current: CacheStep | null = null;
  private memo: Map<string, tf.Tensor> | null = null;

  constructor(
    readonly batch: number,
    readonly layers: number,
  ) {
    this.base = Array.from({ length: layers }, () => null);
    this.tail = Array.from({ length: layers }, () => null);
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

  /**
   * Appends the new keys and values of `layer` ([B, heads, T, hd]) and returns every cached one as one or two blocks
   * along the time axis (the cache keeps them): a base, and a tail of recent decode steps. A decode step copies only
   * the tail (at most TAIL_POSITIONS), and the tail joins the base when full, so a step does not copy the whole cache.
   */
  append(layer: number, k: tf.Tensor, v: tf.Tensor): KvBlock[] {
    const base = this.base[layer];
    const tail = this.tail[layer];
    if (!base || (k.shape[2] as number) > 1) {
      // a prefill chunk: everything into the base
      const parts = [base, tail, { k, v }].filter((b): b is KvBlock => b !== null);
      this.base[layer] = {
        k: tf.keep(
          parts.length > 1
            ? tf.concat(
                parts.map((b) => b.k),
                2,
              )
            : k.clone(),
        ),
        v: tf.keep(
          parts.length > 1
            ? tf.concat(
                parts.map((b) => b.v),
                2,
              )
            : v.clone(),
        ),
      };
      this.tail[layer] = null;
      disposeBlock(base);
      disposeBlock(tail);
      return [this.base[layer]!];
    }
    const grown: KvBlock = tail
      ? { k: tf.keep(tf.concat([tail.k, k], 2)), v: tf.keep(tf.concat([tail.v, v], 2)) }
      : { k: tf.keep(k.clone()), v: tf.keep(v.clone()) };
    disposeBlock(tail);
    if ((grown.k.shape[2] as number) < TAIL_POSITIONS) {
      this.tail[layer] = grown;
      return [base, grown];
    }
    this.base[layer] = { k: tf.keep(tf.concat([base.k, grown.k], 2)), v: tf.keep(tf.concat([base.v, grown.v], 2)) };
    this.tail[layer] = null;
    disposeBlock(base);
    disposeBlock(grown);
    return [this.base[layer]!];
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
    for (const block of [...this.base, ...this.tail]) disposeBlock(block);
    this.base.fill(null);
    this.tail.fill(null);
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
export function withCacheStep<T>(
  cache: KvCache,
  t: number,
  realRows: ReadonlyArray<ArrayLike<boolean | number>> | undefined,
  forward: (step: CacheStep) => T,
): T {
  const step = cache.begin(t, realRows);
  try {
    return forward(step);
  } finally {
    cache.end();
  }
}
