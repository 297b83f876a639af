import * as tf from '@tensorflow/tfjs';
import type { Rng } from './random.js';
import { normal } from './init.js';
import { Module } from './module.js';

/** Token ids [B, T] (int32) → vectors [B, T, D]. */
export class Embedding extends Module {
  constructor(
    readonly numEmbeddings: number,
    readonly dim: number,
    rng: Rng,
    std = 0.02,
    /** 'zeros' skips the random draw (weights about to be loaded from a file). */
    init: 'random' | 'zeros' = 'random',
  ) {
    super();
    this.addParameter('weight', init === 'zeros' ? tf.zeros([numEmbeddings, dim]) : normal([numEmbeddings, dim], std, rng));
  }

  get weight(): tf.Variable {
    return this.param('weight');
  }

  forward(ids: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const flat = ids.reshape([-1]); // [B·T]
      const vectors = tf.gather(this.weight, flat); // [B·T, D]
      return vectors.reshape([...ids.shape, this.dim]); // [B, T, D]
    });
  }
}
