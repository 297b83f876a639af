import * as tf from '@tensorflow/tfjs';
import type { CacheStep } from './kv-cache.js';

/**
 * Rotary position embeddings in Hugging Face's `rotate_half` layout (LlamaRotaryEmbedding, rope_type "default"):
 * inv_freq[i] = theta^(−2i/d), angle(p, j) = p · inv_freq[j mod d/2] (the frequencies repeated, cat(freqs, freqs)),
 * x' = x·cos + rotate_half(x)·sin with rotate_half(x) = cat(−x₂, x₁) for the halves x₁, x₂ of each head vector.
 * Tables are computed in float64 and cached per length as plain arrays (no tensors outlive a forward pass).
 */
export class RotaryEmbedding {
  private readonly cache = new Map<number, { cos: Float32Array; sinSigned: Float32Array }>();
  /** The permutation that swaps the halves of a head vector, [d, d]: (x·P)[j] = x[(j + d/2) mod d]. */
  private readonly swap: Float32Array;

  constructor(
    readonly headDim: number,
    readonly theta: number,
  ) {
    if (headDim % 2 !== 0) throw new Error(`rotary embeddings need an even head dimension, got ${headDim}`);
    this.swap = new Float32Array(headDim * headDim);
    for (let j = 0; j < headDim; j++) this.swap[((j + headDim / 2) % headDim) * headDim + j] = 1;
  }

  /** cos [T, d] and sin with the first half negated [T, d], so rotate_half(x)·sin = swapHalves(x)·sinSigned. */
  private tables(t: number): { cos: Float32Array; sinSigned: Float32Array } {
    let tables = this.cache.get(t);
    if (!tables) {
      const d = this.headDim;
      const half = d / 2;
      const cos = new Float32Array(t * d);
      const sinSigned = new Float32Array(t * d);
      for (let p = 0; p < t; p++) {
        for (let j = 0; j < d; j++) {
          const angle = p * this.theta ** (-(2 * (j % half)) / d);
          cos[p * d + j] = Math.cos(angle);
          sinSigned[p * d + j] = j < half ? -Math.sin(angle) : Math.sin(angle);
        }
      }
      tables = { cos, sinSigned };
      this.cache.set(t, tables);
    }
    return tables;
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
   * length and left-padded rows are offset) → rotated [B, H, T, d]. Same angles as `apply`. The cos/sin tables of the
   * step's positions [B, 1, T, d] and the swap matrix are made once per step and shared by every layer.
   */
  applyAt(x: tf.Tensor, step: CacheStep): tf.Tensor {
    return tf.tidy(() => {
      const [b, h, t, d] = x.shape as [number, number, number, number];
      const { positions } = step;
      if (positions.length !== b * t) throw new Error(`RotaryEmbedding.applyAt: ${positions.length} positions for [${b}, ${t}] tokens`);
      const tables = (): { cos: Float32Array; sinSigned: Float32Array } => {
        const half = d / 2;
        const cos = new Float32Array(b * t * d);
        const sinSigned = new Float32Array(b * t * d);
        for (let n = 0; n < b * t; n++) {
          const p = positions[n];
          for (let j = 0; j < d; j++) {
            const angle = p * this.theta ** (-(2 * (j % half)) / d);
            cos[n * d + j] = Math.cos(angle);
            sinSigned[n * d + j] = j < half ? -Math.sin(angle) : Math.sin(angle);
          }
        }
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
