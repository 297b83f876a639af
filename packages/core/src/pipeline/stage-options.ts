/** A stage object without `stage` and `label`: the options its definition's `run` and `check` receive. */
export function stageOptions(spec: { stage: string; label?: string }): Record<string, unknown> {
  const { stage: _stage, label: _label, ...options } = spec as Record<string, unknown>;
  return options;
}
