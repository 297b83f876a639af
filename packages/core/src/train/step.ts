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
    const { value, grads } = lossAndGradients(loss, variables);
    return applyStep(value, grads, optimizer, clipNorm);
  });
}

export interface AccumulatedStepInput extends Omit<StepInput, 'loss'> {
  /** Micro-batches per optimizer step. */
  microBatches: number;
  /** The loss of micro-batch k (draws its batch; the batch's tensors are its to dispose). */
  microLoss: (k: number) => tf.Scalar;
}

/**
 * One optimizer step over `microBatches` micro-batches (gradient accumulation): the gradients of each micro-batch's
 * mean loss are summed, and the sum divided by their number, so the update is that of one batch `microBatches` times
 * larger whose loss is the mean of the micro-batches' mean losses (equal-sized micro-batches whose every example
 * carries loss: the mean over the large batch). Clipping and the reported norm apply to the averaged gradient; the
 * reported loss is the mean of the micro-batch losses. Only one micro-batch's activations exist at a time.
 */
export function accumulatedTrainStep({ microBatches, microLoss, variables, optimizer, clipNorm }: AccumulatedStepInput): StepOutput {
  if (variables.length === 0) throw new Error('nothing to train: no trainable variables (did you freeze without injecting?)');
  if (!Number.isInteger(microBatches) || microBatches < 1) throw new Error(`accumulateSteps must be a positive integer, got ${microBatches}`);
  let sums: tf.NamedTensorMap | null = null;
  let lossSum: tf.Tensor | null = null;
  try {
    for (let k = 0; k < microBatches; k++) {
      const { value, grads } = tf.tidy(() => lossAndGradients(() => microLoss(k), variables));
      if (sums === null || lossSum === null) {
        sums = grads;
        lossSum = value;
        continue;
      }
      const previous: tf.NamedTensorMap = sums;
      const previousLoss: tf.Tensor = lossSum;
      sums = tf.tidy(() => Object.fromEntries(Object.entries(previous).map(([name, g]) => [name, g.add(grads[name])])));
      lossSum = tf.tidy(() => previousLoss.add(value));
      tf.dispose([previous, previousLoss, grads, value]);
    }
    const total = sums!;
    const totalLoss = lossSum!;
    return tf.tidy(() => {
      const scale = tf.scalar(1 / microBatches);
      const mean: tf.NamedTensorMap = Object.fromEntries(Object.entries(total).map(([name, g]) => [name, g.mul(scale)]));
      return applyStep(totalLoss.mul(scale) as tf.Scalar, mean, optimizer, clipNorm);
    });
  } finally {
    tf.dispose([sums ?? {}, lossSum ?? []]);
  }
}

/** The loss and the gradients of `variables` (inside the caller's tidy). */
function lossAndGradients(loss: () => tf.Scalar, variables: tf.Variable[]): { value: tf.Scalar; grads: tf.NamedTensorMap } {
  // Frees each activation's gradient and saved tensors once the backward pass is past them (PyTorch's peak memory).
  return tf.variableGrads(() => {
    const l = loss();
    releaseDuringBackprop();
    return l;
  }, variables);
}

/** Clips (when asked), applies the gradients and returns the loss with the norm before clipping (inside the caller's tidy). */
function applyStep(value: tf.Scalar, grads: tf.NamedTensorMap, optimizer: tf.Optimizer, clipNorm: number | undefined): StepOutput {
  if (clipNorm === undefined) {
    const gradNorm = globalNorm(grads);
    optimizer.applyGradients(grads);
    return { loss: value, gradNorm };
  }
  const clipped = clipByGlobalNorm(grads, clipNorm);
  optimizer.applyGradients(clipped.grads);
  return { loss: value, gradNorm: clipped.norm };
}
