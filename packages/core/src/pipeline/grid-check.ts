import type { ValidationIssue } from './issues.js';
import type { Pipeline } from './types.js';

/** A grid varies the rank and placement of the pipeline's single inject stage. */
export function checkGrid(pipeline: Pipeline, file: string, issues: ValidationIssue[]): void {
  const injects = pipeline.stages.filter((s) => s.stage === 'inject').length;
  if (injects !== 1) {
    issues.push({ file, pointer: '/grid', message: `a grid needs exactly one "inject" stage to vary; found ${injects}` });
  }
}
