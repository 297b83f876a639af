import * as tf from '@tensorflow/tfjs';
import type { CacheStep } from './kv-cache.js';
import { ropeFrequencies, type RopeFrequencies } from './rope-scaling.js';

/**
 * Rotary position embeddings in Hugging Face's `rotate_half` layout (LlamaRotaryEmbedding):
 * angle(p, j) = p · inv_freq[j mod r/2] over the first r (rotary) dimensions of a head (the frequencies repeated,
 * cat(freqs, freqs)), x' = x·cos + rotate_half(x)·sin with rotate_half(x) = cat(−x₂, x₁) for the halves x₁, x₂ of
 * those r dimensions; cos and sin carry the schedule's attention factor (yarn), and dimensions from r on pass through
 * unchanged (Phi-3's partial_rotary_factor). inv_freq comes from the rope schedule (rope-scaling.ts; θ^(−2i/r) by
 * default). Tables are computed in float64 and cached per length as plain arrays (no tensors outlive a forward pass).
 */
export class RotaryEmbedding {
  private readonly cache = new Map<number, { cos: Float32Array; sinSigned: Float32Array }>();
  /** The permutation that swaps the halves of the rotary dimensions, [d, d]: (x·P)[j] = x[(j + r/2) mod r] for j < r, 0 after. */
  private readonly swap: Float32Array;
  readonly frequencies: RopeFrequencies;

  constructor(
    readonly headDim: number,
    readonly theta: number,
    frequencies?: RopeFrequencies,
  ) {
    if (headDim % 2 !== 0) throw new Error(`rotary embeddings need an even head dimension, got ${headDim}`);
    this.frequencies = frequencies ?? ropeFrequencies({ headDim, theta, maxPositions: Number.MAX_SAFE_INTEGER, scaling: null });
    const r = this.frequencies.rotaryDim;
    if (r % 2 !== 0 || r > headDim) throw new Error(`rotary dimension ${r} must be even and at most the head dimension ${headDim}`);
    this.swap = new Float32Array(headDim * headDim);
    for (let j = 0; j < r; j++) this.swap[((j + r / 2) % r) * headDim + j] = 1;
  }

  /**
   * One position's row of the tables, written at `offset`: cos [d] and sin with the first rotary half negated [d]
   * (so rotate_half(x)·sin = swapHalves(x)·sinSigned); cos 1, sin 0 on pass-through dimensions.
   */
  fillRow(position: number, invFreq: Float64Array, cos: Float32Array, sinSigned: Float32Array, offset: number): void {
    const d = this.headDim;
    const r = this.frequencies.rotaryDim;
    const half = r / 2;
    const scale = this.frequencies.attentionFactor;
    for (let j = 0; j < d; j++) {
      if (j >= r) {
        cos[offset + j] = 1;
        sinSigned[offset + j] = 0;
        continue;
      }
      const angle = position * invFreq[j % half];
      cos[offset + j] = Math.cos(angle) * scale;
      sinSigned[offset + j] = (j < half ? -Math.sin(angle) : Math.sin(angle)) * scale;
    }
  }

  /** cos [T, d] and sinSigned [T, d] for positions 0 … T−1. */
  private tables(t: number): { cos: Float32Array; sinSigned: Float32Array } {
    let tables = this.cache.get(t);
    if (!tables) {
      const d = this.headDim;
      const invFreq = this.frequencies.invFreq(t);
      const cos = new Float32Array(t * d);
      const sinSigned = new Float32Array(t * d);
      for (let p = 0; p < t; p++) this.fillRow(p, invFreq, cos, sinSigned, p * d);
      tables = { cos, sinSigned };
      this.cache.set(t, tables);
    }
    return tables;
  }

  /** cos and sinSigned [B·T, d] for the positions of packed rows of T tokens ([B·T] row-major), with the schedule's frequencies. */
  tablesAt(positions: Int32Array, t: number): { cos: Float32Array; sinSigned: Float32Array } {
    const d = this.headDim;
    const invFreq = this.frequencies.invFreq(t);
    const cos = new Float32Array(positions.length * d);
    const sinSigned = new Float32Array(positions.length * d);
    for (let n = 0; n < positions.length; n++) this.fillRow(positions[n], invFreq, cos, sinSigned, n * d);
    return { cos, sinSigned };
  }

  /** x [B, H, T, d] rotated with given tables cos, sinSigned [B, 1, T, d] (tablesAt) → [B, H, T, d]. */
  applyTables(x: tf.Tensor, cos: tf.Tensor, sinSigned: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const [b, h, t, d] = x.shape as [number, number, number, number];
      const swapped = tf.matMul(x.reshape([b * h * t, d]), tf.tensor2d(this.swap, [d, d])).reshape([b, h, t, d]); // [B·H·T, d]·[d, d] → [B, H, T, d]
      return x.mul(cos).add(swapped.mul(sinSigned)); // [B, H, T, d]
    });
  }

  /** x [B, H, T, d] → rotated [B, H, T, d]. */
  apply(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const [b, h, t, d] = x.shape as [number, number, number, number];
      const { cos, sinSigned } = this.tables(t);
      // [x₂, x₁] as a product with a permutation matrix: exact (each output is one input times 1, plus zeros), and a
      // BLAS call forward and backward, where tfjs's reverse / slice kernels loop element by element in JavaScript.
      const swapped = tf.matMul(x.reshape([b * h * t, d]), tf.tensor2d(this.swap, [d, d])).reshape([b, h, t, d]); // [B·H·T, d]·[d, d] → [B, H, T, d]
      return x.mul(tf.tensor2d(cos, [t, d])).add(swapped.mul(tf.tensor2d(sinSigned, [t, d]))); // [B, H, T, d]
    });
  }

  /**
   * x [B, H, T, d] with its own position per row and token (the KV-cache path, where new tokens start at the cached
   * length and left-padded rows are offset) → rotated [B, H, T, d]. Same angles, schedule and attention factor as
   * `apply` (inv_freq for the longest sequence the step reaches: transformers' seq_len = max(position_ids) + 1). The
   * cos/sin tables of the step's positions [B, 1, T, d] and the swap matrix are made once per step and shared by every layer.
   */
  applyAt(x: tf.Tensor, step: CacheStep): tf.Tensor {
    return tf.tidy(() => {
      const [b, h, t, d] = x.shape as [number, number, number, number];
      const { positions } = step;
      if (positions.length !== b * t) throw new Error(`RotaryEmbedding.applyAt: ${positions.length} positions for [${b}, ${t}] tokens`);
      const tables = (): { cos: Float32Array; sinSigned: Float32Array } => {
        const invFreq = this.frequencies.invFreq(positions.reduce((m, p) => Math.max(m, p), 0) + 1);
        const cos = new Float32Array(b * t * d);
        const sinSigned = new Float32Array(b * t * d);
        for (let n = 0; n < b * t; n++) this.fillRow(positions[n], invFreq, cos, sinSigned, n * d);
        return { cos, sinSigned };
      };
      let made: { cos: Float32Array; sinSigned: Float32Array } | null = null;
      const once = () => (made ??= tables());
      const cos = step.shared(`rope${d}.cos`, () => tf.tensor4d(once().cos, [b, 1, t, d]));
      const sin = step.shared(`rope${d}.sin`, () => tf.tensor4d(once().sinSigned, [b, 1, t, d]));
      const swap = step.shared(`rope${d}.swap`, () => tf.tensor2d(this.swap, [d, d]));
      const swapped = tf.matMul(x.reshape([b * h * t, d]), swap).reshape([b, h, t, d]); // [B·H·T, d]·[d, d] → [B, H, T, d]
      return x.mul(cos).add(swapped.mul(sin)); // [B, H, T, d]
    });
  }
}
