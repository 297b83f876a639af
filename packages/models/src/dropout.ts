import * as tf from '@tensorflow/tfjs';
import type { Rng } from './random.js';
import { Module } from './module.js';

/** Inverted dropout, active only in training; each call draws its mask seed from the module's Rng. */
export function seededDropout(x: tf.Tensor, rate: number, rng: Rng, training: boolean): tf.Tensor {
  if (!training || rate === 0) return x;
  return tf.dropout(x, rate, undefined, rng.nextUint32());
}

export class Dropout extends Module {
  constructor(
    readonly rate: number,
    private readonly rng: Rng,
  ) {
    super();
    if (!(rate >= 0 && rate < 1)) throw new Error(`dropout rate must be in [0, 1), got ${rate}`);
  }

  forward(x: tf.Tensor): tf.Tensor {
    return seededDropout(x, this.rate, this.rng, this.training);
  }
}
