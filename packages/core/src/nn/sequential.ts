import * as tf from '@tensorflow/tfjs';
import { Module } from './module.js';

/** Runs its children, named `0`, `1`, …, in order. */
export class Sequential extends Module {
  constructor(modules: Module[]) {
    super();
    modules.forEach((m, i) => this.addModule(String(i), m));
  }

  get length(): number {
    return this.namedChildren().length;
  }

  at(index: number): Module {
    return this.child(String(index));
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.namedChildren().reduce((h, [, m]) => m.forward(h), x));
  }
}
