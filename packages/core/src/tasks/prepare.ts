import type { DatasetSource } from '../pipeline/datasets.js';
import type { RunContext } from '../pipeline/run-context.js';
import type { DataSpec } from '../pipeline/types.js';
import { classificationTask } from './classification.js';
import type { TaskData } from './task-data.js';

/** Loads the data a stage names and wraps it for the model's task. `seed` orders training batches. */
export async function prepareTaskData(spec: DataSpec, ctx: RunContext, datasets: DatasetSource, seed: number): Promise<TaskData> {
  if (spec.dataset === 'digits') return classificationTask(await datasets.classification(spec), seed);
  throw new Error(`dataset "${spec.dataset}" needs the language-model task, which this build does not have`);
}
