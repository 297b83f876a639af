import * as tf from '@tensorflow/tfjs';
import { Module } from './module.js';

/** Normalises the last axis: (x - mean) / sqrt(var + eps) · weight + bias, as torch.nn.LayerNorm. */
export class LayerNorm extends Module {
  constructor(
    readonly dim: number,
    readonly eps = 1e-5,
  ) {
    super();
    this.addParameter('weight', tf.ones([dim]));
    this.addParameter('bias', tf.zeros([dim]));
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const mean = x.mean(-1, true); // [..., 1]
      const centred = x.sub(mean); // [..., D]
      const variance = centred.square().mean(-1, true); // [..., 1]
      const normed = centred.mul(variance.add(this.eps).rsqrt());
      return normed.mul(this.param('weight')).add(this.param('bias'));
    });
  }
}
