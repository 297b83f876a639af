import * as tf from '@tensorflow/tfjs';
import type { Rng } from './random.js';
import { seededDropout } from './dropout.js';
import { attendBlocks, type CacheStep, type KvCache } from './kv-cache.js';
import { Linear } from './linear.js';
import { Module } from './module.js';

/** [T, T] additive mask: 0 where key ≤ query, -1e9 above the diagonal (a constant, so no gradient flows into it). */
export function causalMask(t: number): tf.Tensor2D {
  const values = new Float32Array(t * t);
  for (let i = 0; i < t; i++) for (let j = i + 1; j < t; j++) values[i * t + j] = -1e9;
  return tf.tensor2d(values, [t, t]);
}

/**
 * Multi-head causal self-attention with separate q, k, v, o Linear sites (roles attn.q … attn.o), so each can
 * take its own LoRA factors. [B, T, C] → [B, T, C].
 */
export class CausalSelfAttention extends Module {
  readonly headDim: number;

  constructor(
    readonly dim: number,
    readonly heads: number,
    readonly layer: number,
    private readonly dropout: number,
    private readonly rng: Rng,
  ) {
    super();
    if (dim % heads !== 0) throw new Error(`attention width ${dim} is not divisible by ${heads} heads`);
    this.headDim = dim / heads;
    for (const name of ['q', 'k', 'v', 'o']) {
      this.addModule(name, new Linear(dim, dim, rng.fork(name), { role: `attn.${name}`, layer }));
    }
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const [b, t, c] = x.shape as [number, number, number];
      const split = (name: string) => this.child(name).forward(x).reshape([b, t, this.heads, this.headDim]).transpose([0, 2, 1, 3]); // [B, H, T, hd]
      const q = split('q');
      const k = split('k');
      const v = split('v');
      const scores = tf.matMul(q, k, false, true).mul(1 / Math.sqrt(this.headDim)); // [B, H, T, hd]·[B, H, hd, T] → [B, H, T, T]
      const weights = tf.softmax(scores.add(causalMask(t)), -1); // [B, H, T, T]
      const dropped = seededDropout(weights, this.dropout, this.rng, this.training);
      const heads = tf.matMul(dropped, v); // [B, H, T, T]·[B, H, T, hd] → [B, H, T, hd]
      const merged = heads.transpose([0, 2, 1, 3]).reshape([b, t, c]); // [B, T, C]
      return this.child('o').forward(merged);
    });
  }

  /** The new positions of x [B, T, C] against the cached keys and values of `layer` (extended by theirs); eval only (no dropout). */
  forwardCached(x: tf.Tensor, cache: KvCache, layer: number, step: CacheStep): tf.Tensor {
    return tf.tidy(() => {
      const [b, t, c] = x.shape as [number, number, number];
      const split = (name: string) => this.child(name).forward(x).reshape([b, t, this.heads, this.headDim]).transpose([0, 2, 1, 3]); // [B, H, T, hd]
      const q = split('q');
      const blocks = cache.append(layer, split('k'), split('v')); // [B, H, S_i, hd] each, ΣS_i = S+T
      const { mask } = step;
      const heads = attendBlocks(q, blocks, 1 / Math.sqrt(this.headDim), mask && ((scores) => scores.add(mask))); // softmax(q·Kᵀ/√hd + [B, 1, T, S+T])·V: [B, H, T, hd]
      return this.child('o').forward(heads.transpose([0, 2, 1, 3]).reshape([b, t, c])); // [B, T, C]
    });
  }
}
