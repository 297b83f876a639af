import * as tf from '@tensorflow/tfjs';
import { clipByGlobalNorm, globalNorm } from './clip.js';
import { releaseDuringBackprop } from './release-backprop.js';

export interface StepInput {
  /** Builds the scalar loss from the current variables. */
  loss: () => tf.Scalar;
  /** Exactly the variables to update (trainable ones); gradients are computed for these only. */
  variables: tf.Variable[];
  optimizer: tf.Optimizer;
  /** Clip the global gradient norm to this value (off when undefined). */
  clipNorm?: number;
}

/** A type alias (not an interface) so it is a tf.TensorContainer that tf.dispose accepts. */
export type StepOutput = {
  loss: tf.Scalar;
  /** Global gradient norm before clipping. */
  gradNorm: tf.Scalar;
};

/** One optimizer step; returns tensors the caller disposes (read them with `await data()`). */
export function trainStep({ loss, variables, optimizer, clipNorm }: StepInput): StepOutput {
  if (variables.length === 0) throw new Error('nothing to train: no trainable variables (did you freeze without injecting?)');
  return tf.tidy(() => {
    // Frees each activation's gradient and saved tensors once the backward pass is past them (PyTorch's peak memory).
    const { value, grads } = tf.variableGrads(() => {
      const l = loss();
      releaseDuringBackprop();
      return l;
    }, variables);
    if (clipNorm === undefined) {
      const gradNorm = globalNorm(grads);
      optimizer.applyGradients(grads);
      return { loss: value, gradNorm };
    }
    const clipped = clipByGlobalNorm(grads, clipNorm);
    optimizer.applyGradients(clipped.grads);
    return { loss: value, gradNorm: clipped.norm };
  });
}
