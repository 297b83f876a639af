import * as tf from '@tensorflow/tfjs';

/**
 * DoRA (Liu et al. 2024; PEFT `use_dora=True`) in rankwise's layout, W [in, out], A [in, r], B [r, out]:
 * the adapted weight is W' = m ⊙ (W + s·A·B) / ‖W + s·A·B‖, the norm taken per output (over the `in` axis; PEFT's
 * `torch.linalg.norm(weight, dim=1)` of its [out, in] weight), m: [out] the trainable `lora_magnitude_vector`.
 */

/** ‖W + s·A·B‖ per output: [out]. Caller disposes. */
export function weightNorm(w: tf.Tensor2D, a: tf.Tensor2D, b: tf.Tensor2D, scaling: number): tf.Tensor1D {
  return tf.tidy(() => {
    const adapted = w.add(tf.matMul(a, b).mul(scaling)); // [in, r]·[r, out] → [in, out]
    return adapted.square().sum(0).sqrt() as tf.Tensor1D; // [out]
  });
}

/**
 * The same norm treated as a constant by backpropagation (PEFT detaches weight_norm, as the paper advises: §4.3,
 * it saves the memory of the norm's graph at no cost in accuracy). Computed inside a custom-gradient op, so no
 * gradient work is recorded for it; its gradients with respect to A and B are zero.
 */
export function detachedWeightNorm(w: tf.Tensor2D, a: tf.Tensor2D, b: tf.Tensor2D, scaling: number): tf.Tensor1D {
  const op = tf.customGrad(((aIn: tf.Tensor, bIn: tf.Tensor) => ({
    value: weightNorm(w, aIn as tf.Tensor2D, bIn as tf.Tensor2D, scaling),
    gradFunc: () => [tf.zerosLike(aIn), tf.zerosLike(bIn)],
  })) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(a, b) as tf.Tensor1D;
}

export interface DoraForwardInput {
  /** Output of the base layer on x: x·W + b, [N, out]. */
  baseOutput: tf.Tensor2D;
  /** x·W without bias on the LoRA path's input (dropped-out x in training with dropout), [N, out]. */
  baseResult: tf.Tensor2D;
  /** (x_d·A)·B, unscaled, [N, out]. */
  lora: tf.Tensor2D;
  /** m, [out]. */
  magnitude: tf.Tensor1D;
  /** ‖W + s·A·B‖ (detached), [out]. */
  norm: tf.Tensor1D;
  scaling: number;
}

/**
 * PEFT's DoRA forward: y = base(x) + (m/‖·‖ − 1) ⊙ (x_d·W) + (m/‖·‖) ⊙ s·(x_d·A·B). Without dropout (x_d = x) this
 * is b + (m/‖·‖) ⊙ (x·W + s·x·A·B) = x·W' + b.
 */
export function doraOutput(o: DoraForwardInput): tf.Tensor2D {
  return tf.tidy(() => {
    const scale = o.magnitude.div(o.norm); // [out]
    return o.baseOutput.add(o.baseResult.mul(scale.sub(1))).add(o.lora.mul(scale.mul(o.scaling))) as tf.Tensor2D;
  });
}

/** W' = (W + s·A·B) ⊙ m / ‖W + s·A·B‖ (each output column scaled), and the norm (for unmerging). Caller disposes. */
export function doraMergedWeight(
  w: tf.Tensor2D,
  a: tf.Tensor2D,
  b: tf.Tensor2D,
  magnitude: tf.Tensor1D,
  scaling: number,
): { weight: tf.Tensor2D; norm: tf.Tensor1D } {
  return tf.tidy(() => {
    const adapted = w.add(tf.matMul(a, b).mul(scaling)); // [in, r]·[r, out] → [in, out]
    const norm = adapted.square().sum(0).sqrt() as tf.Tensor1D; // [out]
    return { weight: adapted.mul(magnitude.div(norm)) as tf.Tensor2D, norm };
  });
}

/** Inverse of the merge given the norm stored then: W = W' ⊙ ‖·‖ / m − s·A·B. Caller disposes. */
export function doraUnmergedWeight(
  merged: tf.Tensor2D,
  a: tf.Tensor2D,
  b: tf.Tensor2D,
  magnitude: tf.Tensor1D,
  norm: tf.Tensor1D,
  scaling: number,
): tf.Tensor2D {
  return tf.tidy(() => merged.mul(norm.div(magnitude)).sub(tf.matMul(a, b).mul(scaling)) as tf.Tensor2D); // [in, r]·[r, out]
}
