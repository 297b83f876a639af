/** Learning rate at `step` (0-based) of `total`: linear warm-up to `lr`, then constant or cosine to `minLr`. */
export function learningRateAt(
  step: number,
  total: number,
  lr: number,
  schedule: { type: 'constant' | 'cosine'; warmupSteps?: number; minLr?: number } = { type: 'constant' },
): number {
  const warmup = schedule.warmupSteps ?? 0;
  if (step < warmup) return (lr * (step + 1)) / warmup;
  if (schedule.type === 'constant') return lr;
  const minLr = schedule.minLr ?? 0;
  const span = Math.max(total - warmup, 1);
  const progress = Math.min((step - warmup) / span, 1);
  return minLr + 0.5 * (lr - minLr) * (1 + Math.cos(Math.PI * progress));
}
