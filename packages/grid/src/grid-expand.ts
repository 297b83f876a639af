import { applyVariant, variantSlugs } from './grid-variant.js';
import type { InjectStageSpec, Pipeline, SaveStageSpec, StageSpec, TrainStageSpec } from '@rankwise/core';
import type { GridSpec } from './grid-schema.js';

/** One point of the expressivity-vs-rank grid: a complete pipeline of its own. */
export interface GridCellPlan {
  /** Stable, readable key: `r8.all-layers`, `full`. */
  key: string;
  kind: 'lora' | 'full';
  rank: number | null;
  placement: string;
  /** Label of the cell's variant (grid.variant); null without a variant axis and for full fine-tuning. */
  variant: string | null;
  alpha: number | null;
  pipeline: Pipeline;
}

export const FULL_FINE_TUNING = 'full fine-tuning';

const slug = (label: string): string =>
  label
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '') || 'placement';

/** alpha for rank r: a number, or "2r" / "r" / "0.5r"; without a rule the inject stage's alpha (or r). */
export function gridAlpha(rule: GridSpec['alpha'], r: number, stageAlpha: number | undefined): number {
  if (typeof rule === 'number') return rule;
  if (typeof rule === 'string') {
    const factor = rule === 'r' ? 1 : Number(rule.slice(0, -1));
    return factor * r;
  }
  return stageAlpha ?? r;
}

/**
 * Every cell of `pipeline.grid`: for each placement × variant × rank, the stages with the single inject stage set to
 * that rank, alpha and placement and the variant's options (grid-variant.ts); with `fullFineTune`, the corner: no freeze, inject or merge, every parameter trained.
 * Each cell saves what the analyses need (its adapter; the full model for the corner).
 */
export function expandGrid(pipeline: Pipeline): GridCellPlan[] {
  const grid = pipeline.grid;
  if (!grid) return [];
  const injectIndex = pipeline.stages.findIndex((s) => s.stage === 'inject');
  const inject = pipeline.stages[injectIndex] as InjectStageSpec;
  const { grid: _grid, ...base } = pipeline;
  const cells: GridCellPlan[] = [];
  const usedSlugs = new Set<string>();
  const variants = grid.variant ?? [];
  const slugs = variantSlugs(variants);
  for (const placement of grid.placement) {
    let placementSlug = slug(placement.label);
    while (usedSlugs.has(placementSlug)) placementSlug += '-x';
    usedSlugs.add(placementSlug);
    for (const [v, variant] of (variants.length ? variants : [null]).entries()) {
      for (const rank of grid.rank) {
        const alpha = variant?.alpha ?? gridAlpha(grid.alpha, rank, inject.alpha);
        const placed: StageSpec[] = pipeline.stages.map((s, i) =>
          i === injectIndex
            ? { ...inject, r: rank, alpha, placement: { plugin: placement.plugin, ...(placement.options ? { options: placement.options } : {}) } }
            : s,
        );
        const stages = variant ? applyVariant(placed, variant) : placed;
        const key = `r${rank}.${placementSlug}${variant ? `.${slugs[v]}` : ''}`;
        cells.push({
          key,
          kind: 'lora',
          rank,
          placement: placement.label,
          variant: variant?.label ?? null,
          alpha,
          pipeline: { ...base, name: `${pipeline.name}.${key}`, stages: ensureSaved(stages, 'adapter') },
        });
      }
    }
  }
  if (grid.fullFineTune) {
    const lr = typeof grid.fullFineTune === 'object' ? grid.fullFineTune.lr : undefined;
    const stages = pipeline.stages
      .filter((s) => s.stage !== 'freeze' && s.stage !== 'merge')
      .map((s): StageSpec => {
        if (s.stage === 'inject') return { stage: 'unfreeze', label: s.label };
        if (s.stage === 'train' && lr !== undefined) return { ...s, optimizer: { ...(s as TrainStageSpec).optimizer, lr } };
        if (s.stage === 'save') return { ...s, adapter: false, merged: true };
        return s;
      });
    cells.push({
      key: 'full',
      kind: 'full',
      rank: null,
      placement: FULL_FINE_TUNING,
      variant: null,
      alpha: null,
      pipeline: { ...base, name: `${pipeline.name}.full`, stages: ensureSaved(stages, 'merged') },
    });
  }
  return cells;
}

/** Appends (or extends) the last save stage so the cell writes `what`. */
function ensureSaved(stages: StageSpec[], what: 'adapter' | 'merged'): StageSpec[] {
  const last = stages[stages.length - 1];
  if (last.stage === 'save') return [...stages.slice(0, -1), { ...(last as SaveStageSpec), [what]: true }];
  return [...stages, { stage: 'save', [what]: true } as SaveStageSpec];
}
