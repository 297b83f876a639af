import { totalmem } from 'node:os';
import type { ModelDescription } from '@rankwise/models/description';
import type { ValidationIssue } from './issues.js';
import type { Pipeline } from './types.js';

/**
 * Sizes are sane for this machine unless the pipeline says `"allowLargeRuns": true`: a whole-pipeline check (the
 * model's size against this machine's memory), run after the stages' own checks.
 */
export function checkRunMemory(pipeline: Pipeline, loaded: ModelDescription | null, display: string): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  if (loaded && !pipeline.allowLargeRuns) checkModelMemory(pipeline, loaded, (pointer, message) => issues.push({ file: display, pointer, message }));
  return issues;
}

type Report = (pointer: string, message: string) => void;

/** Parameters of the described model, from its sites (plus embeddings for language models). */
export function estimateParameters(model: ModelDescription): number {
  let n = 0;
  for (const s of model.sites) n += s.inFeatures * s.outFeatures + s.outFeatures;
  const dim = model.sites[0]?.inFeatures ?? 0;
  if (model.vocabSize) n += model.vocabSize * dim;
  if (model.contextLength) n += model.contextLength * dim;
  return n;
}

/** Weights (4 bytes each) plus, for full training, gradients and Adam's two moments: more than RAM is refused. */
function checkModelMemory(pipeline: Pipeline, model: ModelDescription, report: Report): void {
  const params = estimateParameters(model);
  const trains = pipeline.stages.some((s) => s.stage === 'train');
  const bytes = params * 4 * (trains ? 4 : 1);
  const available = totalmem();
  const largest = Math.max(0, ...model.sites.map((s) => s.inFeatures * s.outFeatures));
  const gib = (b: number) => `${(b / 2 ** 30).toFixed(1)} GiB`;
  if (largest > 2 ** 31 - 1) {
    report(
      '/stages/0',
      `a ${model.architecture} layer of ${largest.toExponential(2)} weights exceeds the largest tensor TensorFlow.js can hold (2^31 − 1 values)`,
    );
  } else if (bytes > available) {
    report(
      '/stages/0',
      `a ${model.architecture} of about ${params.toExponential(2)} parameters needs about ${gib(bytes)}${trains ? ' to train' : ''}, this machine has ${gib(available)} (set "allowLargeRuns": true at the top level if you mean it)`,
    );
  }
}
