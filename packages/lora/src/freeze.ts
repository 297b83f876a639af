import type { Module } from '@rankwise/models';
import { quantizedLinears } from '@rankwise/models';

/** Marks every parameter not trainable (the base model before injection). Returns how many were frozen. */
export function freeze(model: Module): number {
  const params = model.parameters();
  for (const p of params) p.trainable = false;
  return params.length;
}

/** Marks every parameter trainable (full fine-tuning). */
export function unfreeze(model: Module): number {
  const quantized = quantizedLinears(model);
  if (quantized.length > 0) {
    throw new Error(
      `unfreeze: ${quantized.length} Linear weights are stored quantized (${quantized[0][1].quantized!.type}, e.g. ${quantized[0][0]}); they cannot be fine-tuned: load the model without "quantize" for full fine-tuning, or train LoRA adapters on the quantized base (QLoRA)`,
    );
  }
  const params = model.parameters();
  for (const p of params) p.trainable = true;
  return params.length;
}
