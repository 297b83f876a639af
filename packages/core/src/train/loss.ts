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
    const logProbs = tf.logSoftmax(flatLogits); // [N, C]
    const picked = logProbs.mul(tf.oneHot(flatLabels, classes)).sum(-1); // [N]
    return picked.mean().neg() as tf.Scalar;
  });
}

/** Fraction of rows whose argmax equals the label. Returns a scalar tensor (read it with `await data()`). */
export function accuracy(logits: tf.Tensor, labels: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const classes = logits.shape[logits.shape.length - 1];
    const predicted = logits.reshape([-1, classes]).argMax(-1); // [N]
    return predicted.equal(labels.reshape([-1]).toInt()).toFloat().mean() as tf.Scalar;
  });
}
