import * as tf from '@tensorflow/tfjs';

/**
 * ‖g‖₂ of all gradients together (a scalar tensor, inside the caller's tidy). The per-variable sums are stacked and
 * summed rather than `addN`-ed: tfjs-webgpu's own AddN binds every input to one shader and goes wrong past 7 inputs
 * (8 storage buffers per stage). @rankwise/backend-webgpu replaces that kernel with a chunked one, but the norm does
 * not depend on it: Concat, under stack, splits its inputs itself.
 */
export function globalNorm(grads: tf.NamedTensorMap): tf.Scalar {
  const squares = Object.values(grads).map((g) => g.square().sum());
  return (squares.length === 0 ? tf.scalar(0) : tf.stack(squares).sum().sqrt()) as tf.Scalar;
}

/**
 * torch.nn.utils.clip_grad_norm_: scales all gradients by min(1, maxNorm / (‖g‖₂ + 1e-6)).
 * Returns new tensors (inside the caller's tidy) and the norm before clipping.
 */
export function clipByGlobalNorm(grads: tf.NamedTensorMap, maxNorm: number): { grads: tf.NamedTensorMap; norm: tf.Scalar } {
  const norm = globalNorm(grads);
  const factor = tf.minimum(tf.scalar(1), tf.scalar(maxNorm).div(norm.add(1e-6)));
  const clipped: tf.NamedTensorMap = {};
  for (const [name, g] of Object.entries(grads)) clipped[name] = g.mul(factor);
  return { grads: clipped, norm };
}
