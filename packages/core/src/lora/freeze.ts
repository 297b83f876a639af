import type { Module } from '../nn/module.js';

/** Marks every parameter not trainable (the base model before injection). Returns how many were frozen. */
export function freeze(model: Module): number {
  const params = model.parameters();
  for (const p of params) p.trainable = false;
  return params.length;
}

/** Marks every parameter trainable (full fine-tuning). */
export function unfreeze(model: Module): number {
  const params = model.parameters();
  for (const p of params) p.trainable = true;
  return params.length;
}
