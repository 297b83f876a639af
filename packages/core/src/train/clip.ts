import * as tf from '@tensorflow/tfjs';

/**
 * torch.nn.utils.clip_grad_norm_: scales all gradients by min(1, maxNorm / (‖g‖₂ + 1e-6)) where ‖g‖₂ is the
 * norm of all gradients together. Returns new tensors (inside the caller's tidy) and the pre-clip norm.
 */
export function clipByGlobalNorm(grads: tf.NamedTensorMap, maxNorm: number): { grads: tf.NamedTensorMap; norm: tf.Scalar } {
  const names = Object.keys(grads);
  const squares = names.map((n) => grads[n].square().sum());
  const norm = (squares.length === 0 ? tf.scalar(0) : tf.addN(squares).sqrt()) as tf.Scalar;
  const factor = tf.minimum(tf.scalar(1), tf.scalar(maxNorm).div(norm.add(1e-6)));
  const clipped: tf.NamedTensorMap = {};
  for (const n of names) clipped[n] = grads[n].mul(factor);
  return { grads: clipped, norm };
}
