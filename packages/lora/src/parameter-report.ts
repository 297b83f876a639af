import type { Module } from '@rankwise/models';
import { quantizedLinears } from '@rankwise/models';

export interface ParameterReport {
  trainable: number;
  /** Every parameter of the model, adapters included (PEFT's "all params"). */
  total: number;
  /** 100 · trainable / total. */
  percent: number;
  /** `trainable params: 14,544 || all params: 283,866 || trainable%: 5.1236` */
  text: string;
}

/** PEFT's print_trainable_parameters, as data and as its one-line text. */
export function parameterReport(model: Module): ParameterReport {
  let trainable = 0;
  let total = 0;
  for (const p of model.parameters()) {
    total += p.size;
    if (p.trainable) trainable += p.size;
  }
  // Frozen weights stored quantized are no tf.Variables, but still the model's parameters.
  for (const [, linear] of quantizedLinears(model)) total += linear.inFeatures * linear.outFeatures;
  const percent = total === 0 ? 0 : (100 * trainable) / total;
  const fmt = (n: number): string => n.toLocaleString('en-US');
  const text = `trainable params: ${fmt(trainable)} || all params: ${fmt(total)} || trainable%: ${percent.toFixed(4)}`;
  return { trainable, total, percent, text };
}
