import * as tf from '@tensorflow/tfjs';
import { Module } from './module.js';

/** Root-mean-square norm over the last axis, as Llama's: weight · x / sqrt(mean(x²) + eps) (no centring, no bias). */
export class RmsNorm extends Module {
  constructor(
    readonly dim: number,
    readonly eps = 1e-6,
  ) {
    super();
    this.addParameter('weight', tf.ones([dim]));
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const meanSquare = x.square().mean(-1, true); // [..., 1]
      return x.mul(meanSquare.add(this.eps).rsqrt()).mul(this.param('weight')); // [..., D]
    });
  }
}
