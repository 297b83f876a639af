import * as tf from '@tensorflow/tfjs';
import { Module } from './module.js';

/**
 * Root-mean-square norm over the last axis, as Llama's: weight · x / sqrt(mean(x²) + eps) (no centring, no bias).
 * With `unitOffset` (Gemma's RMSNorm) the scale is (1 + weight) and the weight starts at zero.
 */
export class RmsNorm extends Module {
  constructor(
    readonly dim: number,
    readonly eps = 1e-6,
    readonly unitOffset = false,
  ) {
    super();
    this.addParameter('weight', unitOffset ? tf.zeros([dim]) : tf.ones([dim]));
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const meanSquare = x.square().mean(-1, true); // [..., 1]
      const scale = this.unitOffset ? this.param('weight').add(1) : this.param('weight'); // [D]
      return x.mul(meanSquare.add(this.eps).rsqrt()).mul(scale); // [..., D]
    });
  }
}
