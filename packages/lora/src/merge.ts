import type { Module } from '@rankwise/models';
import { loraLayers } from './inject.js';

/** Folds every adapter into its W in place (adapters kept, so `unmergeAdapters` can undo it). */
export function mergeAdapters(model: Module): number {
  const layers = loraLayers(model);
  for (const [, layer] of layers) layer.merge();
  return layers.length;
}

export function unmergeAdapters(model: Module): number {
  const layers = loraLayers(model);
  for (const [, layer] of layers) layer.unmerge();
  return layers.length;
}

/**
 * PEFT's merge_and_unload: W ← W + scaling·A·B (DoRA: its rescaled W'), each LoraLinear replaced by its plain Linear,
 * A, B (and m) disposed.
 * The result has exactly the base architecture and its inference cost.
 */
export function mergeAndUnload(model: Module): number {
  const layers = loraLayers(model);
  for (const [path, layer] of layers) {
    layer.merge();
    model.setSubmodule(path, layer.base);
    layer.disposeAdapter();
  }
  return layers.length;
}
