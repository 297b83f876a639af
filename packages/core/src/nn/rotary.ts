import * as tf from '@tensorflow/tfjs';

/**
 * Rotary position embeddings in Hugging Face's `rotate_half` layout (LlamaRotaryEmbedding, rope_type "default"):
 * inv_freq[i] = theta^(−2i/d), angle(p, j) = p · inv_freq[j mod d/2] (the frequencies repeated, cat(freqs, freqs)),
 * x' = x·cos + rotate_half(x)·sin with rotate_half(x) = cat(−x₂, x₁) for the halves x₁, x₂ of each head vector.
 * Tables are computed in float64 and cached per length as plain arrays (no tensors outlive a forward pass).
 */
export class RotaryEmbedding {
  private readonly cache = new Map<number, { cos: Float32Array; sinSigned: Float32Array }>();

  constructor(
    readonly headDim: number,
    readonly theta: number,
  ) {
    if (headDim % 2 !== 0) throw new Error(`rotary embeddings need an even head dimension, got ${headDim}`);
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
      const swapped = tf.reverse(x.reshape([b, h, t, 2, d / 2]), 3).reshape([b, h, t, d]); // [x₂, x₁]
      return x.mul(tf.tensor2d(cos, [t, d])).add(swapped.mul(tf.tensor2d(sinSigned, [t, d]))); // [B, H, T, d]
    });
  }
}
