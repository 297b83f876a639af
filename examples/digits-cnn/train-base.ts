/**
 * A user's model, the way it usually comes into being: a small Keras-style CNN built with the plain TensorFlow.js
 * Layers API, trained on upright digits with `model.fit`, saved as a LayersModel folder (model.json + shards).
 * `pipelines/digits-cnn-lora.json` then adapts it to rotated digits with LoRA.
 *
 *   node --conditions=source --import tsx examples/digits-cnn/train-base.ts            # → examples/digits-cnn/model/
 *   node --conditions=source --import tsx examples/digits-cnn/train-base.ts --out /tmp/cnn --epochs 1 --limit 500
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { resolveBackend } from '@rankwise/core';
import { tfjsFileSaver } from '@rankwise/formats';
import { loadDigits } from '@rankwise/datasets';

export interface TrainBaseOptions {
  out: string;
  epochs?: number;
  /** Training digits (stratified); default: the whole train split (8,000). */
  limit?: number;
  seed?: number;
  /** Widths of the two convolutions. */
  filters?: [number, number];
  log?: (line: string) => void;
}

/**
 * Conv (5×5, stride 2) → BN → conv (3×3) → BN → pool → softmax Dense: [B, 28, 28, 1] → probabilities [B, 10].
 * Small on purpose: TensorFlow.js's CPU convolutions are plain JavaScript loops.
 */
export function buildDigitsCnn(seed: number, filters: [number, number] = [16, 32]): tf.Sequential {
  const init = (k: number) => tf.initializers.heNormal({ seed: seed + k });
  const model = tf.sequential({ name: 'digits_cnn' });
  model.add(
    tf.layers.conv2d({
      name: 'conv1',
      inputShape: [28, 28, 1],
      filters: filters[0],
      kernelSize: 5,
      strides: 2,
      activation: 'relu',
      kernelInitializer: init(1),
    }),
  );
  model.add(tf.layers.batchNormalization({ name: 'bn1' }));
  model.add(tf.layers.conv2d({ name: 'conv2', filters: filters[1], kernelSize: 3, activation: 'relu', kernelInitializer: init(2) }));
  model.add(tf.layers.batchNormalization({ name: 'bn2' }));
  model.add(tf.layers.maxPooling2d({ name: 'pool', poolSize: 2 }));
  model.add(tf.layers.flatten({ name: 'flatten' }));
  model.add(tf.layers.dense({ name: 'dense', units: 10, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 3 }) }));
  return model;
}

/** Trains on the train split of rankwise's digits (split seed 0, so the pipelines' test digits stay unseen). */
export async function trainDigitsCnn(options: TrainBaseOptions): Promise<{ testAccuracy: number; params: number }> {
  const log = options.log ?? console.log;
  const seed = options.seed ?? 7;
  const train = await loadDigits({ split: 'train', seed: 0, limit: options.limit });
  const test = await loadDigits({ split: 'test', seed: 0 });
  const model = buildDigitsCnn(seed, options.filters);
  model.compile({ optimizer: tf.train.adam(1e-3), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  const x = tf.tensor4d(train.x, [train.n, 28, 28, 1]);
  const y = tf.tensor1d(train.y, 'float32');
  // No shuffling inside fit (it draws from Math.random): the split's order is already a seeded shuffle.
  await model.fit(x, y, {
    epochs: options.epochs ?? 6,
    batchSize: 64,
    shuffle: false,
    verbose: 0,
    callbacks: { onEpochEnd: (epoch, logs) => log(`epoch ${epoch + 1}: loss ${logs?.loss.toFixed(4)}, accuracy ${((logs?.acc ?? 0) * 100).toFixed(2)} %`) },
  });
  const xt = tf.tensor4d(test.x, [test.n, 28, 28, 1]);
  const predicted = tf.tidy(() => (model.predict(xt) as tf.Tensor).argMax(-1));
  const labels = await predicted.data();
  let correct = 0;
  for (let i = 0; i < test.n; i++) if (labels[i] === test.y[i]) correct += 1;
  const testAccuracy = correct / test.n;
  await model.save(tfjsFileSaver(options.out));
  log(
    `upright test accuracy ${(testAccuracy * 100).toFixed(2)} % on ${test.n} digits; ${model.countParams().toLocaleString('en-US')} parameters; saved → ${options.out}`,
  );
  tf.dispose([x, y, xt, predicted]);
  model.dispose();
  return { testAccuracy, params: model.countParams() };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({ options: { out: { type: 'string' }, epochs: { type: 'string' }, limit: { type: 'string' }, backend: { type: 'string' } } });
  const backend = await resolveBackend((values.backend ?? 'auto') as 'auto');
  console.log(`backend: ${backend.name}`);
  const out = resolve(values.out ?? new URL('./model', import.meta.url).pathname);
  await trainDigitsCnn({ out, epochs: values.epochs ? Number(values.epochs) : undefined, limit: values.limit ? Number(values.limit) : undefined });
}
