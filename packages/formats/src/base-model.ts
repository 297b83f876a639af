/**
 * What PEFT's adapter_config.json says about the base model, remembered per model object so that a library
 * `saveAdapter(model, dir)` writes what the save stage writes: `base_model_name_or_path` (set by the loaders and by
 * the load stage: a Hub id, or the path from the working directory) and `task_type` (CAUSAL_LM for language models).
 */
const baseModels = new WeakMap<object, string>();

/** Records where `model`'s base weights came from (null: built here, nothing to record). */
export function recordBaseModel(model: object, id: string | null): void {
  if (id === null) baseModels.delete(model);
  else baseModels.set(model, id);
}

/** PEFT's base_model_name_or_path for adapters of `model`, or null when it was built here. */
export function baseModelOf(model: object): string | null {
  return baseModels.get(model) ?? null;
}

/** PEFT's task_type for adapters of `model`: CAUSAL_LM for language models, else null (PEFT's default). */
export function peftTaskType(model: object): string | null {
  return (model as { task?: unknown }).task === 'language-model' ? 'CAUSAL_LM' : null;
}
