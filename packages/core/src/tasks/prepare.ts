import type { DataSpec } from '../contracts/data-schema.js';
import type { DatasetSource, Vocabulary } from '../contracts/datasets.js';
import type { Model } from '../nn/model.js';
import { classificationTask } from './classification.js';
import { languageModelTask } from './language-model.js';
import type { TaskData } from '../contracts/task-data.js';

/** Loads the data a stage names and wraps it for the model's task. `seed` orders training batches. */
export async function prepareTaskData(
  spec: DataSpec,
  model: Model | null,
  vocabulary: Vocabulary | null,
  datasets: DatasetSource,
  baseDir: string,
  seed: number,
): Promise<TaskData> {
  if (spec.dataset === 'digits') return classificationTask(await datasets.classification(spec), seed);
  if (!model) throw new Error('stage "data" needs a model; run "load" first');
  const context = model.contextLength;
  if (context === undefined) throw new Error(`dataset "${spec.dataset}" is text, but the model (${model.architecture}) is not a language model`);
  if (!vocabulary) throw new Error('text data needs a vocabulary: load the model with "vocabulary", or from a checkpoint that has one');
  const arrays = await datasets.text(spec, vocabulary, baseDir);
  return languageModelTask(arrays, context, seed, spec.maxWindows, vocabulary.unit ?? 'char');
}
