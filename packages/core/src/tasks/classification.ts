import * as tf from '@tensorflow/tfjs';
import type { Model } from '@rankwise/models';
import type { ClassificationArrays } from '../contracts/datasets.js';
import { accuracy, sparseSoftmaxCrossEntropy } from '../train/loss.js';
import { EpochSampler } from './batcher.js';
import type { TaskData } from '../contracts/task-data.js';

/** Classification: x [n, features] → logits [n, classes]; loss = mean cross-entropy; metrics loss and accuracy. */
export function classificationTask(data: ClassificationArrays, seed: number): TaskData {
  const sampler = new EpochSampler(data.n, seed);
  const { features } = data;
  const classNames = data.classNames ?? Array.from({ length: data.classes }, (_, i) => String(i));
  let perClass: Array<{ name: string; examples: number; accuracy: number }> = [];
  return {
    name: data.name,
    size: data.n,
    classNames,
    perClass: () => perClass,
    summary: () => ({ name: data.name, examples: data.n, classes: [...classNames], inputShape: data.inputShape ? [...data.inputShape] : [features] }),
    batch(batchSize) {
      const rows = sampler.next(batchSize);
      const x = new Float32Array(batchSize * features);
      const y = new Int32Array(batchSize);
      rows.forEach((row, k) => {
        x.set(data.x.subarray(row * features, (row + 1) * features), k * features);
        y[k] = data.y[row];
      });
      return { x: tf.tensor2d(x, [batchSize, features]), y: tf.tensor1d(y, 'int32') };
    },
    getSamplerState: () => sampler.getState(),
    setSamplerState: (state) => sampler.setState(state as ReturnType<EpochSampler['getState']>),
    loss: (model: Model, x: tf.Tensor, y: tf.Tensor) => sparseSoftmaxCrossEntropy(model.forward(x), y),
    async evaluate(model, batchSize) {
      let lossSum = 0;
      let correct = 0;
      const seen = new Int32Array(classNames.length);
      const right = new Int32Array(classNames.length);
      for (let start = 0; start < data.n; start += batchSize) {
        const count = Math.min(batchSize, data.n - start);
        const [loss, acc, predicted] = tf.tidy(() => {
          const x = tf.tensor2d(data.x.subarray(start * features, (start + count) * features), [count, features]);
          const y = tf.tensor1d(data.y.subarray(start, start + count), 'int32');
          const logits = model.forward(x); // [count, classes]
          return [sparseSoftmaxCrossEntropy(logits, y), accuracy(logits, y), logits.argMax(-1)];
        });
        const [l, a, p] = await Promise.all([loss.data(), acc.data(), predicted.data()]);
        tf.dispose([loss, acc, predicted]);
        for (let k = 0; k < count; k++) {
          const label = data.y[start + k];
          seen[label]++;
          if (p[k] === label) right[label]++;
        }
        lossSum += l[0] * count;
        correct += Math.round(a[0] * count);
      }
      perClass = classNames.map((name, i) => ({ name, examples: seen[i], accuracy: seen[i] === 0 ? 0 : right[i] / seen[i] }));
      return { loss: lossSum / data.n, accuracy: correct / data.n };
    },
  };
}
