import type { InjectStageSpec, StageSpec, TrainStageSpec } from '@rankwise/core';
import { LORA_VARIANT_OPTION_KEYS } from '@rankwise/lora';
import type { GridVariantSpec } from './grid-schema.js';

/**
 * Inject options a grid variant may set (everything an inject stage has except rank and placement, the other axes):
 * alpha, dropout and the LoRA variants' options (rslora, dora, init: from core's variant registry).
 */
export const VARIANT_INJECT_KEYS: readonly string[] = ['alpha', 'dropout', ...LORA_VARIANT_OPTION_KEYS];

/**
 * The stages of one variant's cell: its inject options merged into the inject stage (over the stage's own), and its
 * loraPlusRatio into every train stage's optimizer.
 */
export function applyVariant(stages: StageSpec[], variant: GridVariantSpec): StageSpec[] {
  const injectOptions: Partial<InjectStageSpec> = {};
  const given = variant as Record<string, unknown>;
  for (const key of VARIANT_INJECT_KEYS) if (given[key] !== undefined) Object.assign(injectOptions, { [key]: given[key] });
  return stages.map((s): StageSpec => {
    if (s.stage === 'inject') return { ...s, ...injectOptions };
    if (s.stage === 'train' && variant.loraPlusRatio !== undefined)
      return { ...s, optimizer: { ...(s as TrainStageSpec).optimizer, loraPlusRatio: variant.loraPlusRatio } };
    return s;
  });
}

/** Lower-case slugs of the variant labels, made unique ("dora", "pissa", "lora-2"). */
export function variantSlugs(variants: readonly GridVariantSpec[]): string[] {
  const used = new Set<string>();
  return variants.map((v) => {
    let slug =
      v.label
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, '-')
        .replace(/^-|-$/g, '') || 'variant';
    const base = slug;
    for (let k = 2; used.has(slug); k++) slug = `${base}-${k}`;
    used.add(slug);
    return slug;
  });
}
