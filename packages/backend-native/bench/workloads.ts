/**
 * Training-step workloads shared by the micro benchmark, the profiler and the tests:
 * an MLP (784-512-512-10 by default) and a small GPT-style transformer, both trained with Adam
 * through `tf.variableGrads` + `optimizer.applyGradients`.
 */
import * as tf from '@tensorflow/tfjs';

export interface TrainingWorkload {
  /** Trainable variables, in a fixed order. */
  variables: tf.Variable[];
  /** The scalar loss of one batch (call inside `tf.variableGrads`). */
  loss: () => tf.Scalar;
  dispose: () => void;
}

export interface MlpSpec {
  sizes: number[];
  batch: number;
  seed: number;
}

function glorot(shape: [number, number], seed: number, name: string): tf.Variable {
  const limit = Math.sqrt(6 / (shape[0] + shape[1]));
  return tf.tidy(() => tf.variable(tf.randomUniform(shape, -limit, limit, 'float32', seed), true, name));
}

let uniqueId = 0;
function uniqueName(prefix: string): string {
  uniqueId += 1;
  return `${prefix}_${uniqueId}`;
}

/** Softmax cross-entropy written with primitive ops (logSoftmax = x - logSumExp). */
export function softmaxCrossEntropy(labelsOneHot: tf.Tensor2D, logits: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.neg(tf.mean(tf.sum(tf.mul(labelsOneHot, tf.logSoftmax(logits)), -1))) as tf.Scalar);
}

export function makeMlp(spec: MlpSpec = { sizes: [784, 512, 512, 10], batch: 128, seed: 1 }): TrainingWorkload {
  const { sizes, batch, seed } = spec;
  const prefix = uniqueName('mlp');
  const variables: tf.Variable[] = [];
  for (let i = 0; i + 1 < sizes.length; i += 1) {
    variables.push(glorot([sizes[i], sizes[i + 1]], seed + i, `${prefix}/w${i}`));
    variables.push(tf.tidy(() => tf.variable(tf.zeros([sizes[i + 1]]), true, `${prefix}/b${i}`)));
  }
  const x = tf.randomNormal([batch, sizes[0]], 0, 1, 'float32', seed + 100);
  const classes = sizes[sizes.length - 1];
  const labels = tf.tidy(() => tf.oneHot(tf.randomUniform([batch], 0, classes, 'int32', seed + 101), classes).toFloat()) as tf.Tensor2D;
  const loss = (): tf.Scalar =>
    tf.tidy(() => {
      let h: tf.Tensor2D = x as tf.Tensor2D;
      for (let i = 0; i < variables.length; i += 2) {
        h = tf.add(tf.matMul(h, variables[i] as tf.Tensor2D), variables[i + 1]);
        if (i + 2 < variables.length) h = tf.relu(h);
      }
      return softmaxCrossEntropy(labels, h);
    });
  return { variables, loss, dispose: () => tf.dispose([...variables, x, labels]) };
}

export interface GptSpec {
  vocab: number;
  dModel: number;
  layers: number;
  heads: number;
  context: number;
  batch: number;
  seed: number;
}

export const gptBenchSpec: GptSpec = { vocab: 96, dModel: 128, layers: 4, heads: 4, context: 128, batch: 32, seed: 7 };

function layerNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor): tf.Tensor {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, 1e-5))), gamma), beta);
}

/** GELU, tanh approximation (as in GPT-2). */
export function geluTanh(x: tf.Tensor): tf.Tensor {
  const inner = tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3))));
  return tf.mul(tf.mul(0.5, x), tf.add(1, tf.tanh(inner)));
}

export function makeGpt(spec: GptSpec = gptBenchSpec): TrainingWorkload {
  const { vocab, dModel: d, layers, heads, context: T, batch: B, seed } = spec;
  const dh = d / heads;
  const prefix = uniqueName('gpt');
  let s = seed;
  const normal = (shape: number[], std: number, name: string): tf.Variable =>
    tf.tidy(() => tf.variable(tf.randomNormal(shape, 0, std, 'float32', (s += 1)), true, `${prefix}/${name}`));
  const constant = (shape: number[], value: number, name: string): tf.Variable => tf.tidy(() => tf.variable(tf.fill(shape, value), true, `${prefix}/${name}`));
  const wte = normal([vocab, d], 0.02, 'wte');
  const wpe = normal([T, d], 0.02, 'wpe');
  const blocks = Array.from({ length: layers }, (_, l) => ({
    ln1g: constant([d], 1, `h${l}/ln1g`),
    ln1b: constant([d], 0, `h${l}/ln1b`),
    wqkv: normal([d, 3 * d], 0.02, `h${l}/wqkv`),
    bqkv: constant([3 * d], 0, `h${l}/bqkv`),
    wo: normal([d, d], 0.02, `h${l}/wo`),
    bo: constant([d], 0, `h${l}/bo`),
    ln2g: constant([d], 1, `h${l}/ln2g`),
    ln2b: constant([d], 0, `h${l}/ln2b`),
    w1: normal([d, 4 * d], 0.02, `h${l}/w1`),
    b1: constant([4 * d], 0, `h${l}/b1`),
    w2: normal([4 * d, d], 0.02, `h${l}/w2`),
    b2: constant([d], 0, `h${l}/b2`),
  }));
  const lnfg = constant([d], 1, 'lnfg');
  const lnfb = constant([d], 0, 'lnfb');
  const head = normal([d, vocab], 0.02, 'head');
  const variables = [wte, wpe, ...blocks.flatMap((b) => Object.values(b)), lnfg, lnfb, head];

  const tokens = tf.randomUniform([B, T + 1], 0, vocab, 'int32', seed + 1000);
  const inputs = tf.tidy(() => tf.slice(tokens, [0, 0], [B, T]).reshape([B * T]));
  const targets = tf.tidy(() => tf.oneHot(tf.slice(tokens, [0, 1], [B, T]).reshape([B * T]), vocab).toFloat());
  const mask = tf.tidy(() => tf.mul(tf.sub(1, tf.linalg.bandPart(tf.ones([T, T]), -1, 0)), -1e9));

  const loss = (): tf.Scalar =>
    tf.tidy(() => {
      let x: tf.Tensor = tf.add(tf.gather(wte, inputs).reshape([B, T, d]), wpe);
      for (const blk of blocks) {
        const h = layerNorm(x, blk.ln1g, blk.ln1b).reshape([B * T, d]);
        const qkv = tf.add(tf.matMul(h as tf.Tensor2D, blk.wqkv as tf.Tensor2D), blk.bqkv);
        const [q, k, v] = tf.split(tf.transpose(qkv.reshape([B, T, 3, heads, dh]), [2, 0, 3, 1, 4]), 3, 0).map((t) => t.reshape([B, heads, T, dh]));
        const att = tf.softmax(tf.add(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(dh)), mask));
        const y = tf.transpose(tf.matMul(att, v), [0, 2, 1, 3]).reshape([B * T, d]);
        x = tf.add(x, tf.add(tf.matMul(y as tf.Tensor2D, blk.wo as tf.Tensor2D), blk.bo).reshape([B, T, d]));
        const h2 = layerNorm(x, blk.ln2g, blk.ln2b).reshape([B * T, d]) as tf.Tensor2D;
        const m = geluTanh(tf.add(tf.matMul(h2, blk.w1 as tf.Tensor2D), blk.b1)) as tf.Tensor2D;
        x = tf.add(x, tf.add(tf.matMul(m, blk.w2 as tf.Tensor2D), blk.b2).reshape([B, T, d]));
      }
      const xf = layerNorm(x, lnfg, lnfb).reshape([B * T, d]) as tf.Tensor2D;
      return softmaxCrossEntropy(targets as tf.Tensor2D, tf.matMul(xf, head as tf.Tensor2D));
    });
  return { variables, loss, dispose: () => tf.dispose([...variables, tokens, inputs, targets, mask]) };
}

/** One full training step: loss, gradients of every variable, optimizer update. Returns the loss. */
export async function trainStep(workload: TrainingWorkload, optimizer: tf.Optimizer): Promise<number> {
  const { value, grads } = tf.variableGrads(workload.loss, workload.variables);
  optimizer.applyGradients(grads);
  const loss = (await value.data())[0];
  tf.dispose([value, grads]);
  return loss;
}
