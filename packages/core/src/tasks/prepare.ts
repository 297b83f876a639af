import type { OpenedDataset } from '../contracts/dataset.js';
import type { Vocabulary } from '../contracts/datasets.js';
import type { Model } from '@rankwise/models';
import { classificationTask } from './classification.js';
import { languageModelTask } from './language-model.js';
import { sequenceTask } from './sequences.js';
import type { TaskData } from '../contracts/task-data.js';

const product = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Wraps what a dataset yielded for the model's task, by its kind. `seed` orders training batches. */
export async function taskFor(opened: OpenedDataset, model: Model | null, vocabulary: Vocabulary | null, seed: number): Promise<TaskData> {
  if (opened.kind === 'classification') {
    const features = product(opened.inputShape);
    return classificationTask(
      {
        name: opened.name,
        x: opened.x,
        y: opened.y,
        n: opened.n,
        features,
        classes: opened.classNames.length,
        classNames: opened.classNames,
        inputShape: opened.inputShape,
      },
      seed,
    );
  }
  if (!model) throw new Error('stage "data" needs a model; run "load" first');
  const context = model.contextLength;
  if (context === undefined) throw new Error(`${opened.name} is text, but the model (${model.architecture}) is not a language model`);
  if (opened.kind === 'corpus') {
    const arrays = { name: opened.name, ids: opened.ids, coverage: opened.coverage, bytesPerToken: opened.bytesPerToken };
    return languageModelTask(arrays, context, seed, opened.maxWindows, vocabulary?.unit ?? 'char');
  }
  return sequenceTask(opened, model, vocabulary, seed);
}
