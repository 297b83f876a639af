import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { tfjsFileSaver } from '@rankwise/formats';

/** Seeded initializers, so every test model has the same weights on every run and backend. */
const he = (seed: number) => tf.initializers.heNormal({ seed });
const glorot = (seed: number) => tf.initializers.glorotUniform({ seed });

/**
 * A tiny Keras-style CNN [B, 8, 8, 2] → [B, 4]: Conv2D (3×3, same, tanh) → BatchNormalization → Conv2D (2×2, stride 2,
 * tanh) → Flatten → Dense (softmax). Smooth everywhere (no ReLU, no pooling) so finite differences are meaningful.
 * BatchNorm statistics are set to non-trivial values (as after training).
 */
export function tinyCnn(): tf.Sequential {
  const model = tf.sequential({ name: 'tiny_cnn' });
  model.add(
    tf.layers.conv2d({
      name: 'conv_a',
      inputShape: [8, 8, 2],
      filters: 3,
      kernelSize: 3,
      padding: 'same',
      activation: 'tanh',
      kernelInitializer: he(1),
      biasInitializer: glorot(2),
    }),
  );
  model.add(tf.layers.batchNormalization({ name: 'bn' }));
  model.add(tf.layers.conv2d({ name: 'conv_b', filters: 4, kernelSize: 2, strides: 2, activation: 'tanh', kernelInitializer: he(3) }));
  model.add(tf.layers.flatten({ name: 'flat' }));
  model.add(tf.layers.dense({ name: 'head', units: 4, activation: 'softmax', kernelInitializer: glorot(4) }));
  const bn = model.getLayer('bn');
  bn.setWeights([tf.tensor1d([1.2, 0.8, 1.1]), tf.tensor1d([0.1, -0.2, 0.05]), tf.tensor1d([0.3, -0.1, 0.2]), tf.tensor1d([0.5, 1.5, 0.9])]);
  return model;
}

/** A functional model over token ids [B, 5] → [B, 3]: Embedding (12 × 6) → Flatten → Dense (tanh) → Dense. */
export function tinyEmbeddingModel(): tf.LayersModel {
  const ids = tf.input({ shape: [5], name: 'ids' });
  const embedded = tf.layers
    .embedding({ name: 'embed', inputDim: 12, outputDim: 6, embeddingsInitializer: tf.initializers.randomNormal({ seed: 5 }) })
    .apply(ids) as tf.SymbolicTensor;
  const flat = tf.layers.flatten({ name: 'flat' }).apply(embedded) as tf.SymbolicTensor;
  const hidden = tf.layers.dense({ name: 'hidden', units: 7, activation: 'tanh', kernelInitializer: glorot(6) }).apply(flat) as tf.SymbolicTensor;
  const out = tf.layers.dense({ name: 'out', units: 3, kernelInitializer: glorot(7) }).apply(hidden) as tf.SymbolicTensor;
  return tf.model({ name: 'tiny_embedding', inputs: ids, outputs: out });
}

/** Saves a tfjs model as a LayersModel folder in a fresh temp dir; returns the folder. */
export async function saveToTemp(model: tf.LayersModel, name: string): Promise<string> {
  const dir = join(await mkdtemp(join(tmpdir(), `rankwise-${name}-`)), name);
  await model.save(tfjsFileSaver(dir));
  return dir;
}

/** Token ids [n, 5] in [0, 12), deterministic. */
export function seededIds(n: number, seed: number): tf.Tensor {
  let s = seed >>> 0;
  const data = new Float32Array(n * 5);
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = s % 12;
  }
  return tf.tensor2d(data, [n, 5]);
}
