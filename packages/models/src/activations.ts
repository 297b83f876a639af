import * as tf from '@tensorflow/tfjs';
import { Module } from './module.js';

export const ACTIVATIONS = ['relu', 'gelu', 'tanh', 'identity'] as const;
export type ActivationName = (typeof ACTIVATIONS)[number];

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/** GELU, tanh approximation (GPT-2's): 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). */
export function gelu(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const inner = x.add(x.mul(x).mul(x).mul(0.044715)).mul(SQRT_2_OVER_PI);
    return x.mul(0.5).mul(inner.tanh().add(1));
  });
}

export function activate(name: ActivationName, x: tf.Tensor): tf.Tensor {
  switch (name) {
    case 'relu':
      return tf.relu(x);
    case 'gelu':
      return gelu(x);
    case 'tanh':
      return tf.tanh(x);
    case 'identity':
      return x.clone();
  }
}

/** An activation as a module, for Sequential. */
export class Activation extends Module {
  constructor(readonly name: ActivationName) {
    super();
  }

  forward(x: tf.Tensor): tf.Tensor {
    return activate(this.name, x);
  }
}
