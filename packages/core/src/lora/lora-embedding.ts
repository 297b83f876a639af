import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../random.js';
import { lookup, type EmbeddingSite } from '../nn/embedding-site.js';
import { normal } from '../nn/init.js';
import { LoraLayer, type LoraOptions } from './lora-layer.js';

/**
 * PEFT's embedding LoRA around a frozen table W [n, d]:  y = W[ids] + scaling·A[ids]·B,
 * A: [n, r] zeros and B: [r, d] standard normal (PEFT's init for embeddings, the reverse of Linear's, so a fresh
 * adapter is again exactly zero). No dropout on this path (PEFT applies none to ids). PEFT stores
 * lora_embedding_A = Aᵀ [r, n] and lora_embedding_B = Bᵀ [d, r].
 */
export class LoraEmbedding extends LoraLayer {
  readonly kind = 'embedding';

  constructor(base: EmbeddingSite, options: LoraOptions, rng: Rng) {
    super(base, options, rng);
    this.requirePlainLora('Embedding');
    this.addParameter('lora_A', tf.zeros([base.numEmbeddings, this.r]));
    this.addParameter('lora_B', normal([this.r, base.dim], 1, rng.fork('lora_B')));
  }

  override get base(): EmbeddingSite {
    return this.child<EmbeddingSite>('base');
  }

  forward(ids: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const y = this.base.forward(ids); // [..., d]
      if (this.merged) return y;
      const down = lookup(this.loraA, ids).mul(this.scaling); // [..., r]
      const up = tf.matMul(down.reshape([-1, this.r]), this.loraB); // [N, r]·[r, d] → [N, d]
      return y.add(up.reshape(y.shape));
    });
  }
}
