import { createRankwise, type Pipeline, type RunSummary } from '@rankwise/core';
import { SilentProgress } from '@rankwise/core/runs';
import { createDatasetSource } from '@rankwise/datasets';
import { RUN_OBSERVERS } from '@rankwise/observe';
import pattern from '@rankwise/placement-pattern';

/** A digits MLP trained for a few steps with LoRA: evaluations before and after, in-training evaluation. */
export function tinyPipeline(o: { name?: string; r?: number; lr?: number; steps?: number; logEvery?: number } = {}): Pipeline {
  return {
    name: o.name ?? 'observe-tiny',
    seed: 5,
    backend: 'cpu',
    stages: [
      { stage: 'load', architecture: 'mlp', config: { sizes: [784, 16, 10] } },
      { stage: 'evaluate', label: 'before', data: { dataset: 'digits', split: 'test', limit: 100 } },
      { stage: 'freeze' },
      { stage: 'inject', r: o.r ?? 2, alpha: 4, placement: { plugin: '@rankwise/placement-pattern', options: { target: 'all-linear' } } },
      {
        stage: 'train',
        data: { dataset: 'digits', split: 'train', limit: 300 },
        evalData: { dataset: 'digits', split: 'test', limit: 50 },
        evalEvery: 10,
        steps: o.steps ?? 20,
        batchSize: 16,
        optimizer: { name: 'adam', lr: o.lr ?? 0.01 },
        schedule: { type: 'cosine', warmupSteps: 3 },
        logEvery: o.logEvery ?? 5,
      },
      { stage: 'evaluate', label: 'after', data: { dataset: 'digits', split: 'test', limit: 100 } },
    ],
  } as Pipeline;
}

/** Runs `pipeline` in this process with the CLI's observers (TensorBoard, report.html). */
export async function runObserved(pipeline: Pipeline, out: string): Promise<RunSummary> {
  const rankwise = createRankwise({ progress: new SilentProgress(), datasets: createDatasetSource(), plugins: [pattern], observers: [...RUN_OBSERVERS] });
  return (await rankwise.run(pipeline, { out })).summary;
}
