import type { DatasetFacts } from '../contracts/dataset.js';
import type { ModelDescription } from '@rankwise/models/description';

/** At most this many problems of one data file are listed; the rest are counted in one more line. */
export const MAX_LISTED_PROBLEMS = 20;

const product = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/**
 * Why data with these facts cannot feed `model`, or null when it can: the kind against the model's task, and for
 * classification the example's size (and shape, when the model knows its own) and the class count.
 */
export function dataMismatch(dataset: string, facts: DatasetFacts, model: ModelDescription): string | null {
  if (facts.kind === 'classification') {
    if (model.task !== 'classification') return `dataset "${dataset}" is classification data; the model (${model.architecture}) is a ${model.task} model`;
    const size = product(facts.inputShape);
    const shape = facts.inputShape.join('×');
    if (model.inputFeatures !== undefined && model.inputFeatures !== size) {
      const data = facts.inputShape.length === 1 ? `the data has ${size} features` : `the data's examples are ${shape} = ${size} values`;
      return `${data}; the model's input is ${model.inputShape && model.inputShape.length > 1 ? `${model.inputShape.join('×')} = ` : ''}${model.inputFeatures}`;
    }
    if (model.classes !== undefined && model.classes < facts.classNames.length) {
      return `the data has ${facts.classNames.length} classes (${facts.classNames.slice(0, 12).join(', ')}${facts.classNames.length > 12 ? ', …' : ''}); the model has ${model.classes} outputs`;
    }
    return null;
  }
  if (model.task !== 'language-model') return `dataset "${dataset}" is text; the model (${model.architecture}) is a ${model.task} model`;
  return null;
}
