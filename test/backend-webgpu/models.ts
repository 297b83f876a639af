/** Small models for the webgpu-vs-cpu tests, written with plain tfjs ops on tensors. */
import * as tf from '@tensorflow/tfjs';
import { normalArray, seededRandom } from './support.js';

export interface ParamSpec {
  name: string;
  shape: number[];
  /** Standard deviation of the initial values; 0 with `fill` for constants (biases, layer-norm gain). */
  scale: number;
  fill?: number;
}

/** Deterministic initial values for a list of parameters. */
export function initialValues(specs: readonly ParamSpec[], seed: number): Float32Array[] {
  const random = seededRandom(seed);
  return specs.map((spec) => {
    const size = spec.shape.reduce((p, d) => p * d, 1);
    return spec.fill !== undefined ? new Float32Array(size).fill(spec.fill) : normalArray(size, random, spec.scale);
  });
}

// ---- MLP 20-16-16-5, relu, softmax cross-entropy ----

export const MLP_PARAMS: ParamSpec[] = [
  { name: 'w1', shape: [20, 16], scale: 0.3 },
  { name: 'b1', shape: [16], scale: 0.1 },
  { name: 'w2', shape: [16, 16], scale: 0.3 },
  { name: 'b2', shape: [16], scale: 0.1 },
  { name: 'w3', shape: [16, 5], scale: 0.3 },
  { name: 'b3', shape: [5], scale: 0.1 },
];

export const MLP_BATCH = 8;
const mlpRandom = seededRandom(99);
export const MLP_INPUT = normalArray(MLP_BATCH * 20, mlpRandom);
export const MLP_LABELS = Int32Array.from({ length: MLP_BATCH }, (_, i) => (i * 3) % 5);

export function mlpLoss(params: readonly tf.Tensor[]): tf.Scalar {
  const [w1, b1, w2, b2, w3, b3] = params;
  const x = tf.tensor2d(MLP_INPUT, [MLP_BATCH, 20]);
  const h1 = tf.relu(tf.add(tf.matMul(x, w1), b1));
  const h2 = tf.relu(tf.add(tf.matMul(h1, w2), b2));
  const logits = tf.add(tf.matMul(h2, w3), b3);
  return tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d(MLP_LABELS, 'int32'), 5), logits) as tf.Scalar;
}

// ---- tiny transformer block: embedding, layer norm, causal attention (2 heads), GELU MLP ----

const VOCAB = 11;
const D = 16;
const HEADS = 2;
const T = 6;
const BATCH = 2;

export const TRANSFORMER_PARAMS: ParamSpec[] = [
  { name: 'embedding', shape: [VOCAB, D], scale: 0.5 },
  { name: 'position', shape: [T, D], scale: 0.1 },
  { name: 'ln1Gain', shape: [D], scale: 0, fill: 1 },
  { name: 'ln1Bias', shape: [D], scale: 0, fill: 0 },
  { name: 'wq', shape: [D, D], scale: 0.25 },
  { name: 'wk', shape: [D, D], scale: 0.25 },
  { name: 'wv', shape: [D, D], scale: 0.25 },
  { name: 'wo', shape: [D, D], scale: 0.25 },
  { name: 'ln2Gain', shape: [D], scale: 0, fill: 1 },
  { name: 'ln2Bias', shape: [D], scale: 0, fill: 0 },
  { name: 'mlpIn', shape: [D, 2 * D], scale: 0.25 },
  { name: 'mlpOut', shape: [2 * D, D], scale: 0.25 },
  { name: 'unembedding', shape: [D, VOCAB], scale: 0.25 },
];

const TOKENS = Int32Array.from([3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8]);
const TARGETS = Int32Array.from([1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9]);
/** 0 on and below the diagonal, -1e9 above: added to attention scores before softmax. */
const CAUSAL_MASK = Float32Array.from({ length: T * T }, (_, i) => (i % T > Math.floor(i / T) ? -1e9 : 0));

function layerNorm(x: tf.Tensor, gain: tf.Tensor, bias: tf.Tensor): tf.Tensor {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5))), gain), bias);
}

/** GELU, tanh approximation. */
function gelu(x: tf.Tensor): tf.Tensor {
  const inner = tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3))));
  return tf.mul(tf.mul(0.5, x), tf.add(1, tf.tanh(inner)));
}

function dense(x: tf.Tensor, w: tf.Tensor): tf.Tensor {
  const [rows, inner] = [x.size / x.shape[x.shape.length - 1], x.shape[x.shape.length - 1]];
  const outer: number = w.shape[w.shape.length - 1] ?? 0;
  return tf.reshape(tf.matMul(tf.reshape(x, [rows, inner]), w), [...x.shape.slice(0, -1), outer]);
}

function splitHeads(x: tf.Tensor): tf.Tensor {
  return tf.transpose(tf.reshape(x, [BATCH, T, HEADS, D / HEADS]), [0, 2, 1, 3]);
}

/** Returns [loss, logits]. */
export function transformerForward(params: readonly tf.Tensor[]): [tf.Scalar, tf.Tensor] {
  const [embedding, position, ln1Gain, ln1Bias, wq, wk, wv, wo, ln2Gain, ln2Bias, mlpIn, mlpOut, unembedding] = params;
  const tokens = tf.tensor2d(TOKENS, [BATCH, T], 'int32');
  const h0 = tf.add(tf.gather(embedding, tokens), position);
  const n1 = layerNorm(h0, ln1Gain, ln1Bias);
  const [q, k, v] = [wq, wk, wv].map((w) => splitHeads(dense(n1, w)));
  const scores = tf.add(tf.div(tf.matMul(q, k, false, true), Math.sqrt(D / HEADS)), tf.tensor2d(CAUSAL_MASK, [T, T]));
  const attended = tf.matMul(tf.softmax(scores), v);
  const merged = tf.reshape(tf.transpose(attended, [0, 2, 1, 3]), [BATCH, T, D]);
  const h1 = tf.add(h0, dense(merged, wo));
  const h2 = tf.add(h1, dense(gelu(dense(layerNorm(h1, ln2Gain, ln2Bias), mlpIn)), mlpOut));
  const logits = tf.reshape(dense(h2, unembedding), [BATCH * T, VOCAB]);
  const loss = tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d(TARGETS, 'int32'), VOCAB), logits) as tf.Scalar;
  return [loss, logits];
}
