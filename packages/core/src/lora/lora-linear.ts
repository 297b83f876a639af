import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../random.js';
import { seededDropout } from '../nn/dropout.js';
import { kaimingUniform } from '../nn/init.js';
import { flattenLeading, unflattenLeading, type Linear } from '../nn/linear.js';
import { LoraLayer, type LoraOptions } from './lora-layer.js';

export { loraScaling, type LoraOptions } from './lora-layer.js';

/**
 * y = x·W + b + scaling·(dropout(x)·A)·B around a frozen Linear.
 * A: [in, r] Kaiming-uniform, B: [r, out] zeros, so a fresh adapter leaves outputs unchanged.
 */
export class LoraLinear extends LoraLayer {
  readonly kind = 'linear';

  constructor(base: Linear, options: LoraOptions, rng: Rng) {
    super(base, options, rng);
    this.addParameter('lora_A', kaimingUniform([base.inFeatures, this.r], base.inFeatures, rng.fork('lora_A')));
    this.addParameter('lora_B', tf.zeros([this.r, base.outFeatures]));
  }

  override get base(): Linear {
    return this.child<Linear>('base');
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const y = this.base.forward(x); // [..., out]
      if (this.merged) return y;
      const x2 = seededDropout(flattenLeading(x), this.dropout, this.rng, this.training); // [N, in]
      const down = tf.matMul(x2, this.loraA).mul(this.scaling); // [N, in]·[in, r] → [N, r]
      const up = tf.matMul(down, this.loraB); // [N, r]·[r, out] → [N, out]
      return y.add(unflattenLeading(up, x));
    });
  }

  /** scaling·A·B: [in, out]. Caller disposes. */
  override delta(): tf.Tensor2D {
    return tf.tidy(() => tf.matMul(this.loraA, this.loraB).mul(this.scaling)); // [in, r]·[r, out]
  }
}
