import type { DatasetSource } from '../pipeline/datasets.js';
import type { RunContext } from '../pipeline/run-context.js';
import type { DataSpec } from '../pipeline/types.js';
import { classificationTask } from './classification.js';
import { languageModelTask } from './language-model.js';
import type { TaskData } from './task-data.js';

/** Loads the data a stage names and wraps it for the model's task. `seed` orders training batches. */
export async function prepareTaskData(spec: DataSpec, ctx: RunContext, datasets: DatasetSource, seed: number): Promise<TaskData> {
  if (spec.dataset === 'digits') return classificationTask(await datasets.classification(spec), seed);
  const model = ctx.requireModel('data');
  const context = model.contextLength;
  if (context === undefined) throw new Error(`dataset "${spec.dataset}" is text, but the model (${model.architecture}) is not a language model`);
  if (!ctx.vocabulary) throw new Error('text data needs a vocabulary: load the model with "vocabulary", or from a checkpoint that has one');
  const arrays = await datasets.text(spec, ctx.vocabulary, ctx.pipeline.dir);
  return languageModelTask(arrays, context, seed, spec.maxWindows);
}
