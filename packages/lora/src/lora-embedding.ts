import * as tf from '@tensorflow/tfjs';
import type { Rng } from '@rankwise/models';
import { lookup, type EmbeddingSite } from '@rankwise/models';
import { normal } from '@rankwise/models';
import { DEFAULT_ADAPTER, LoraLayer, type LoraOptions, type ResolvedLoraOptions } from './lora-layer.js';

/**
 * PEFT's embedding LoRA around a frozen table W [n, d]:  y = W[ids] + Σ scaling·A[ids]·B (over the active adapters),
 * A: [n, r] zeros and B: [r, d] standard normal (PEFT's init for embeddings, the reverse of Linear's, so a fresh
 * adapter is again exactly zero). No dropout on this path (PEFT applies none to ids). PEFT stores
 * lora_embedding_A = Aᵀ [r, n] and lora_embedding_B = Bᵀ [d, r].
 */
export class LoraEmbedding extends LoraLayer {
  readonly kind = 'embedding';

  constructor(base: EmbeddingSite, options: LoraOptions, rng: Rng, name: string = DEFAULT_ADAPTER) {
    super(base);
    this.addAdapter(name, options, rng);
  }

  protected get siteKind(): string {
    return 'Embedding';
  }

  protected get outFeatures(): number {
    return this.base.dim;
  }

  protected initialFactors(options: ResolvedLoraOptions, rng: Rng): { a: tf.Tensor; b: tf.Tensor } {
    return { a: tf.zeros([this.base.numEmbeddings, options.r]), b: normal([options.r, this.base.dim], 1, rng.fork('lora_B')) };
  }

  override get base(): EmbeddingSite {
    return this.child<EmbeddingSite>('base');
  }

  forward(ids: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      let y = this.base.forward(ids); // [..., d]
      if (this.merged) return y;
      for (const adapter of this.activeList()) {
        const down = lookup(adapter.a, ids).mul(adapter.scaling); // [..., r]
        const up = tf.matMul(down.reshape([-1, adapter.r]), adapter.b); // [N, r]·[r, d] → [N, d]
        y = y.add(up.reshape(y.shape));
      }
      return y;
    });
  }
}
