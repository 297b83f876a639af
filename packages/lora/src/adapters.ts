import type { Module } from '@rankwise/models';
import { loraLayers } from './inject.js';
import { BASE_ROWS, type LoraLayer } from './lora-layer.js';

/**
 * Several named adapters on one base, PEFT's model-level controls (tuners_utils.py set_adapter, enable_adapters,
 * delete_adapter): the active set is the same on every LoRA layer; a layer without one of the active names simply
 * adds nothing for it. Nothing here copies or reloads the base weights.
 */

/** Every adapter name on the model, in the order the adapters were added (PEFT's peft_config order). */
export function adapterNames(model: Module): string[] {
  const first = new Map<string, number>();
  for (const [, layer] of loraLayers(model)) {
    for (const adapter of layer.adapters()) first.set(adapter.name, Math.min(first.get(adapter.name) ?? Infinity, adapter.created));
  }
  return [...first].sort((x, y) => x[1] - y[1]).map(([name]) => name);
}

/** The active adapter names ([] when the model has no LoRA layers). */
export function activeAdapters(model: Module): string[] {
  const layers = loraLayers(model);
  return layers.length === 0 ? [] : layers[0][1].activeAdapters;
}

/** True while the adapters are switched off (forward is the base model's). */
export function adaptersDisabled(model: Module): boolean {
  const layers = loraLayers(model);
  return layers.length > 0 && layers[0][1].disabled;
}

function requireLayers(model: Module, action: string): Array<[string, LoraLayer]> {
  const layers = loraLayers(model);
  if (layers.length === 0) throw new Error(`${action}: the model has no LoRA adapters`);
  return layers;
}

function checkNames(model: Module, names: readonly string[], action: string): void {
  const known = adapterNames(model);
  if (names.length === 0)
    throw new Error(`${action}: give at least one adapter name (to switch every adapter off, use disableAdapters); adapters: ${known.join(', ')}`);
  const seen = new Set<string>();
  for (const name of names) {
    if (!known.includes(name)) throw new Error(`${action}: no adapter named ${JSON.stringify(name)}; adapters: ${known.join(', ')}`);
    if (seen.has(name)) throw new Error(`${action}: adapter ${JSON.stringify(name)} is named twice`);
    seen.add(name);
  }
}

export interface SetAdapterOptions {
  /** Keep the active adapters frozen (PEFT's inference_mode); by default they become trainable. */
  inferenceMode?: boolean;
}

/**
 * Makes `names` the active adapters on every layer (PEFT's set_adapter): their outputs are summed in forward; they
 * become trainable and every other adapter frozen, so training trains the active adapter only. Merged layers are
 * unmerged first. Switching never copies or reloads the base.
 */
export function setAdapter(model: Module, names: string | readonly string[], options: SetAdapterOptions = {}): void {
  const list = typeof names === 'string' ? [names] : [...names];
  const layers = requireLayers(model, 'setAdapter');
  checkNames(model, list, 'setAdapter');
  for (const [, layer] of layers) layer.setActive(list, options.inferenceMode ?? false);
}

/** Switches every adapter off (PEFT's disable_adapter_layers): forward is the base model's; no adapter is trainable. */
export function disableAdapters(model: Module): void {
  for (const [, layer] of requireLayers(model, 'disableAdapters')) layer.setDisabled(true);
}

/** Switches the active adapters back on (PEFT's enable_adapter_layers); they become trainable again. */
export function enableAdapters(model: Module): void {
  for (const [, layer] of requireLayers(model, 'enableAdapters')) layer.setDisabled(false);
}

/**
 * Removes adapter `name` from every layer and disposes its factors (PEFT's delete_adapter; refused while merged). When
 * it was active, the remaining active ones stay active; when none remains, the first remaining name in sorted order
 * becomes active, as PEFT picks it. A layer left without adapters is replaced by its base module.
 */
export function deleteAdapter(model: Module, name: string): void {
  const layers = requireLayers(model, 'deleteAdapter');
  checkNames(model, [name], 'deleteAdapter');
  const merged = layers.filter(([, l]) => l.mergedAdapters.includes(name)).map(([p]) => p);
  if (merged.length > 0) throw new Error(`deleteAdapter: adapter "${name}" is merged into ${merged.join(', ')}; unmerge it first`);
  const before = activeAdapters(model);
  for (const [, layer] of layers) layer.deleteAdapter(name);
  for (const [path, layer] of layers) {
    if (layer.adapterNames.length > 0) continue;
    model.setSubmodule(path, layer.base);
  }
  const remaining = adapterNames(model);
  let active = before.filter((n) => n !== name);
  if (active.length === 0 && remaining.length > 0) active = [[...remaining].sort()[0]];
  if (remaining.length > 0) setAdapter(model, active);
}

/** Every adapter variable's trainable flag, to put back exactly. */
function trainableFlags(model: Module): Array<[{ trainable: boolean }, boolean]> {
  return loraLayers(model).flatMap(([, layer]) =>
    layer.adapters().flatMap((a) => [a.a, a.b, ...Object.values(a.extras)].map((v): [{ trainable: boolean }, boolean] => [v, v.trainable])),
  );
}

/**
 * Runs `fn` with `names` active (or, with null, with every adapter switched off: the base model), then puts the
 * previous active set, disabled switch and trainable flags back, also when `fn` throws. This is how one request picks
 * its adapter (e.g. `generate --adapter sql`). The active set is model state: requests for different adapters on one
 * model must run one after another, not interleaved.
 */
export async function withAdapter<T>(model: Module, names: string | readonly string[] | null, fn: () => T | Promise<T>): Promise<T> {
  const previous = activeAdapters(model);
  const wasDisabled = adaptersDisabled(model);
  const flags = trainableFlags(model);
  if (names === null) disableAdapters(model);
  else {
    setAdapter(model, names);
    if (wasDisabled) enableAdapters(model);
  }
  try {
    return await fn();
  } finally {
    const layers = loraLayers(model);
    for (const [, layer] of layers) {
      layer.setActive(previous);
      layer.setDisabled(wasDisabled);
    }
    for (const [variable, trainable] of flags) variable.trainable = trainable;
  }
}

/**
 * PEFT's mixed-batch inference (`model.generate(..., adapter_names=[...])`): runs `fn` with row b of every batch the
 * model sees using adapter `names[b]` alone (`"__base__"`: the base model), one base and one forward for all rows,
 * then goes back to the active set, also when `fn` throws. Each name must be an adapter of the model or "__base__".
 */
export async function withRowAdapters<T>(model: Module, names: readonly string[], fn: () => T | Promise<T>): Promise<T> {
  const known = adapterNames(model);
  names.forEach((name, b) => {
    if (name !== BASE_ROWS && !known.includes(name))
      throw new Error(`adapter_names[${b}]: no adapter named ${JSON.stringify(name)}; allowed: ${[...known, BASE_ROWS].join(', ')}`);
  });
  const layers = loraLayers(model);
  try {
    for (const [, layer] of layers) layer.setRowAdapters(names);
    return await fn();
  } finally {
    for (const [, layer] of layers) layer.setRowAdapters(null);
  }
}
