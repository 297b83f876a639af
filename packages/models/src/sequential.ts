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

  /**
   * When set, runs each child in place of `child.forward` (gradient checkpointing: train/gradient-checkpointing.ts
   * recomputes each block in the backward pass).
   */
  runChild: ((child: Module, x: tf.Tensor) => tf.Tensor) | null = null;

  forward(x: tf.Tensor): tf.Tensor {
    const run = this.runChild;
    return tf.tidy(() => this.namedChildren().reduce((h, [, m]) => (run ? run(m, h) : m.forward(h)), x));
  }
}
