import type { Module } from '@rankwise/models';
import { activeAdapters, setAdapter } from './adapters.js';
import { freeze } from './freeze.js';

/**
 * Adapters loaded from files are frozen, as PEFT's `PeftModel.from_pretrained(model, path)` loads them (its default
 * `is_trainable=False`): the base and every adapter not trainable, so a pipeline that only loads and evaluates reports
 * `trainable params: 0`. A train stage that follows is PEFT's `is_trainable=True`: it makes the active adapters
 * trainable (the base stays frozen). An explicit `freeze` or `unfreeze` stage in between decides instead.
 */
const loadedForInference = new WeakSet<Module>();

/** After loading adapters: the base and every adapter frozen, the active set unchanged. */
export function freezeLoadedAdapters(model: Module): void {
  freeze(model);
  const active = activeAdapters(model);
  if (active.length > 0) setAdapter(model, active, { inferenceMode: true });
  loadedForInference.add(model);
}

/** A train stage: adapters loaded frozen become trainable (the active ones); true when that happened. */
export function trainLoadedAdapters(model: Module): boolean {
  if (!loadedForInference.delete(model)) return false;
  const active = activeAdapters(model);
  if (active.length > 0) setAdapter(model, active);
  return true;
}

/** A freeze or unfreeze stage sets trainability itself: a later train stage leaves it as it is. */
export function forgetLoadedAdapters(model: Module): void {
  loadedForInference.delete(model);
}
