import type { ModelDescription } from '../nn/description.js';
import type { DataSpec } from '../contracts/data-schema.js';

/** Digits from the mnist package: 28×28 grey images, 10 classes. */
const DIGITS_FEATURES = 784;
const DIGITS_CLASSES = 10;

/** Why `spec` cannot feed `model`, or null when it can. */
export function dataMismatch(spec: DataSpec, model: ModelDescription): string | null {
  if (spec.dataset === 'digits') {
    if (model.task !== 'classification') return `dataset "digits" is classification data; the model (${model.architecture}) is a ${model.task} model`;
    if (model.inputFeatures !== DIGITS_FEATURES) return `digits have ${DIGITS_FEATURES} features; the model's input is ${model.inputFeatures}`;
    if ((model.classes ?? 0) < DIGITS_CLASSES) return `digits have ${DIGITS_CLASSES} classes; the model has ${model.classes} outputs`;
    return null;
  }
  if (model.task !== 'language-model') return `dataset "${spec.dataset}" is text; the model (${model.architecture}) is a ${model.task} model`;
  return null;
}
