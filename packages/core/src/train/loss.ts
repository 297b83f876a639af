import * as tf from '@tensorflow/tfjs';

/**
 * Mean cross-entropy of integer labels under logits: logits [N, C] (or [B, T, C]), labels [N] (or [B, T]) int32.
 * Labels outside [0, C) would silently give a zero row, so callers validate data first.
 */
export function sparseSoftmaxCrossEntropy(logits: tf.Tensor, labels: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const classes = logits.shape[logits.shape.length - 1];
    const flatLogits = logits.reshape([-1, classes]); // [N, C]
    const flatLabels = labels.reshape([-1]).toInt(); // [N]
    return pickedLogProbs(flatLogits, flatLabels).mean().neg() as tf.Scalar;
  });
}

/**
 * tf.oneHot(labels, classes) [N, C], built from element-wise kernels: 1 where |j − label| < 0.5 (exact for classes up
 * to 2^24). Backends with native element-wise kernels run it in a few passes of their own, where tfjs's OneHot
 * kernel fills a JavaScript array that must then be copied over (0.74 s against 0.08 s for 1,024 × 49,152 here).
 */
function oneHotOf(labels: tf.Tensor, classes: number): tf.Tensor {
  if (classes > 2 ** 24) return tf.oneHot(labels, classes);
  // Each [N, C] intermediate is freed as soon as the next exists (a tidy would hold all four until its end).
  const offsets = tf.tidy(() =>
    tf
      .range(0, classes, 1, 'float32')
      .reshape([1, classes])
      .sub(labels.toFloat().reshape([-1, 1])),
  ); // [N, C]
  const distance = offsets.abs(); // [N, C]
  offsets.dispose();
  const half = tf.scalar(0.5);
  const margin = half.sub(distance); // [N, C]: positive only at the label
  distance.dispose();
  half.dispose();
  const oneHot = tf.step(margin); // [N, C]: 1 at the label, 0 elsewhere
  margin.dispose();
  return oneHot;
}

/**
 * log softmax(logits)[i, labels[i]] for each row: logits [N, C], labels [N] → [N].
 *
 * The same numbers, forward and backward, as tfjs's `logSoftmax(logits).mul(oneHot(labels)).sum(-1)`: the same float
 * operations on every value (test/core/backprop-memory.test.ts checks the bits), with a fraction of the memory: that
 * chain keeps three [N, C] tensors for the backward pass (log-probabilities, one-hot, product), this keeps the logits
 * only and recomputes the softmax from them. For a language model's head, [N, C] is the largest tensor of a step
 * (1,024 tokens × 49,152 vocabulary: 201 MB).
 */
const pickedLogProbs = tf.customGrad(((logits: tf.Tensor, labels: tf.Tensor, save: tf.GradSaveFunc) => {
  const [n, classes] = logits.shape as [number, number];
  const max = logits.max(-1, true); // [N, 1]
  const shifted = logits.sub(max); // [N, C]
  const exp = shifted.exp(); // [N, C]
  const logSum = exp.sum(-1, true).log(); // [N, 1]
  exp.dispose();
  const rows = tf.range(0, n, 1, 'int32').mul(tf.scalar(classes, 'int32')); // [N]: flat index of each row's start
  const picked = tf.gather(shifted.reshape([-1]), rows.add(labels)).sub(logSum.reshape([-1])); // [N]
  shifted.dispose();
  save([logits, labels, max, logSum]);
  return {
    value: picked,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [savedLogits, savedLabels, savedMax, savedLogSum] = saved;
      const dyCol = dy.reshape([-1, 1]); // [N, 1]
      const softmax = tf.tidy(() => savedLogits.sub(savedMax).sub(savedLogSum).exp()); // [N, C]
      const scaled = dyCol.mul(softmax); // [N, C]
      softmax.dispose();
      const oneHot = oneHotOf(savedLabels, classes); // [N, C]
      const picks = oneHot.mul(dyCol); // [N, C]: dy at each row's label, 0 elsewhere
      oneHot.dispose();
      const dLogits = picks.sub(scaled); // [N, C]
      picks.dispose();
      scaled.dispose();
      dyCol.dispose();
      // Labels are integers and take no gradient; tfjs still wants a float32 tensor of their shape.
      return [dLogits, tf.zeros(savedLabels.shape)];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]);

/** Fraction of rows whose argmax equals the label. Returns a scalar tensor (read it with `await data()`). */
export function accuracy(logits: tf.Tensor, labels: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const classes = logits.shape[logits.shape.length - 1];
    const predicted = logits.reshape([-1, classes]).argMax(-1); // [N]
    return predicted
      .equal(labels.reshape([-1]).toInt())
      .toFloat()
      .mean() as tf.Scalar;
  });
}

/** Labels equal to this carry no loss (PyTorch's ignore_index, Hugging Face's −100). */
export const IGNORED_LABEL = -100;

/**
 * Cross-entropy over the positions whose label is not −100, as transformers' causal-LM loss reduces it: the sum of
 * −log p(label) over those positions divided by their number (0 when there are none). logits [N, C] or [B, T, C],
 * labels [N] or [B, T] int32 (already shifted: the label of each logit row).
 */
export function maskedSoftmaxCrossEntropy(logits: tf.Tensor, labels: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const classes = logits.shape[logits.shape.length - 1];
    const flatLabels = labels.reshape([-1]).toInt(); // [N]
    const keep = flatLabels.notEqual(tf.scalar(IGNORED_LABEL, 'int32')); // [N] bool
    const safeLabels = flatLabels.mul(keep.toInt()); // [N]: ignored positions read class 0, then weigh 0
    const weights = keep.toFloat(); // [N]
    const picked = pickedLogProbs(logits.reshape([-1, classes]), safeLabels); // [N]
    return picked.mul(weights).sum().neg().div(weights.sum().maximum(1)) as tf.Scalar;
  });
}

/** Sum of −log p(label) over positions whose label is not −100, and their count: [sum, count] scalars (evaluation). */
export function maskedNllSum(logits: tf.Tensor, labels: tf.Tensor): [tf.Scalar, tf.Scalar] {
  return tf.tidy(() => {
    const classes = logits.shape[logits.shape.length - 1];
    const flatLabels = labels.reshape([-1]).toInt(); // [N]
    const keep = flatLabels.notEqual(tf.scalar(IGNORED_LABEL, 'int32'));
    const weights = keep.toFloat();
    const picked = pickedLogProbs(logits.reshape([-1, classes]), flatLabels.mul(keep.toInt())); // [N]
    return [picked.mul(weights).sum().neg() as tf.Scalar, weights.sum() as tf.Scalar];
  });
}
