/**
 * rsLoRA (Kalajdzievski 2023; PEFT `use_rslora=True`): scaling α/√r instead of α/r, so the update's size does not shrink
 * as the rank grows. A scaling rule, not a variant: it applies to every variant and init, one boolean per adapter.
 * buildPeftConfig (io/peft-config.ts) folds sites that differ from the adapter-wide flag into alpha_pattern.
 */
export const rsloraScaling = {
  option: { key: 'rslora', description: 'rsLoRA scaling alpha / sqrt(r).' },
  peftKey: 'use_rslora',
  scaling: (r: number, alpha: number, rslora: boolean): number => (rslora ? alpha / Math.sqrt(r) : alpha / r),
} as const;
