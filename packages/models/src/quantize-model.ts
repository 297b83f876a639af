import type { QuantType } from './quant/types.js';
import { quantizedBytes } from './quant/types.js';
import { Linear } from './linear.js';
import type { Module } from './module.js';

/**
 * Which Linear weights `quantize` stores quantized: every Linear but the output head (transformers / bitsandbytes keep
 * lm_head in full precision; embeddings are no Linear). LoRA factors, norms, biases and embeddings stay float32.
 */
export const quantizableLinear = (linear: { role: string }): boolean => linear.role !== 'head';

/** Every Linear whose weight is stored quantized, with its path (inside LoRA layers too). */
export function quantizedLinears(model: Module): Array<[string, Linear]> {
  return model.namedModules().filter((e): e is [string, Linear] => e[1] instanceof Linear && e[1].quantized !== null);
}

export interface QuantizeReport {
  type: QuantType;
  /** Linear weights stored quantized. */
  layers: number;
  /** Their values. */
  values: number;
  /** Bytes they take quantized (float32 would take 4 · values). */
  bytes: number;
}

/**
 * Stores every quantizable Linear weight of a loaded model quantized, one layer at a time (each frozen first: a
 * quantized weight never trains). Models built with `buildQuantized` or loaded with a quantizing loader are already.
 */
export async function quantizeModel(model: Module, type: QuantType): Promise<QuantizeReport> {
  for (const [, module] of model.namedModules()) {
    if (!(module instanceof Linear) || module.quantized !== null || !quantizableLinear(module)) continue;
    module.weight.trainable = false;
    await module.quantize(type);
  }
  return quantizeReport(model, type);
}

export function quantizeReport(model: Module, type: QuantType): QuantizeReport {
  const layers = quantizedLinears(model);
  return {
    type,
    layers: layers.length,
    values: layers.reduce((n, [, l]) => n + l.inFeatures * l.outFeatures, 0),
    bytes: layers.reduce((n, [, l]) => n + quantizedBytes(l.quantized!), 0),
  };
}
