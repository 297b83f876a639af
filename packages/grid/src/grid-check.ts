import type { ModelDescription, PipelineCheck, StageSpec, ValidationIssue } from '@rankwise/core';
import type { GridSpec } from './grid-schema.js';
import { selectPlacement, type PluginRegistry } from '@rankwise/core/internal';

/** Metrics each task's evaluations report (the grid colours by one of them). */
export const TASK_METRICS: Record<string, string[]> = {
  classification: ['accuracy', 'loss'],
  'language-model': ['bitsPerChar', 'bitsPerToken', 'bitsPerByte', 'perplexity', 'loss'],
};

/**
 * A grid varies the rank and placement of the pipeline's single inject stage. Every grid placement is checked
 * (plugin, options, selection) on the sites the model has at that stage; the metric and evaluation must exist.
 */
export const checkGrid: PipelineCheck = async (validated, issues, plugins) => {
  const { pipeline, display: file } = validated;
  if (!pipeline.grid) return;
  const injectIndex = pipeline.stages.findIndex((s) => s.stage === 'inject');
  await checkGridCells(pipeline.grid, pipeline.stages, file, plugins, injectIndex >= 0 ? (validated.modelBefore[injectIndex] ?? null) : null, issues);
};

async function checkGridCells(
  grid: GridSpec,
  stages: readonly StageSpec[],
  file: string,
  plugins: PluginRegistry,
  modelAtInject: ModelDescription | null,
  issues: ValidationIssue[],
): Promise<void> {
  const issue = (pointer: string, message: string) => issues.push({ file, pointer, message });
  const injects = stages.filter((s) => s.stage === 'inject').length;
  if (injects !== 1) {
    issue('/grid', `a grid needs exactly one "inject" stage to vary; found ${injects}`);
    return;
  }
  if (!stages.some((s) => s.stage === 'evaluate')) issue('/grid', 'a grid needs an "evaluate" stage: its metrics are what the grid compares');
  const labels = stages.filter((s) => s.stage === 'evaluate' && s.label !== undefined).map((s) => s.label!);
  if (grid.evaluation !== undefined && !labels.includes(grid.evaluation)) {
    issue(
      '/grid/evaluation',
      `found ${JSON.stringify(grid.evaluation)}, allowed: the label of an evaluate stage (${labels.map((l) => JSON.stringify(l)).join(', ') || 'none has a label'})`,
    );
  }
  const variantLabels = new Set<string>();
  (grid.variant ?? []).forEach((v, i) => {
    if (variantLabels.has(v.label))
      issue(`/grid/variant/${i}/label`, `found ${JSON.stringify(v.label)} twice; labels name the grid's variants and must differ`);
    variantLabels.add(v.label);
  });
  if (grid.retained !== undefined && (!labels.includes(grid.retained) || grid.retained === grid.evaluation)) {
    issue(
      '/grid/retained',
      `found ${JSON.stringify(grid.retained)}, allowed: the label of an evaluate stage other than the grid's evaluation (${
        labels
          .filter((l) => l !== grid.evaluation)
          .map((l) => JSON.stringify(l))
          .join(', ') || 'none has a label'
      })`,
    );
  }
  const seen = new Set<string>();
  grid.placement.forEach((p, i) => {
    if (seen.has(p.label)) issue(`/grid/placement/${i}/label`, `found ${JSON.stringify(p.label)} twice; labels name the grid's rows and must differ`);
    seen.add(p.label);
  });
  if (!modelAtInject) return;
  const metrics = TASK_METRICS[modelAtInject.task] ?? [];
  if (grid.metric !== undefined && !metrics.includes(grid.metric)) {
    issue('/grid/metric', `found ${JSON.stringify(grid.metric)}, allowed: ${metrics.map((m) => JSON.stringify(m)).join(', ')} (${modelAtInject.task})`);
  }
  for (const [i, placement] of grid.placement.entries()) {
    await selectPlacement(placement, modelAtInject.sites, `/grid/placement/${i}`, file, plugins, issues);
  }
}
