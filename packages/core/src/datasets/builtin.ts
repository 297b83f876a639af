import type { AnyDatasetDefinition } from '../contracts/dataset.js';
import { digits, TEXT_CORPORA } from './corpora.js';
import { imageFolder } from './image-folder.js';
import { chatData, completionData, textData } from './lm-datasets.js';
import { table } from './table.js';

/** The built-in datasets, in the order the schema lists them; packages add theirs (keyword rankwise-plugin). */
export const BUILTIN_DATASETS: readonly AnyDatasetDefinition[] = [
  digits,
  ...TEXT_CORPORA,
  table,
  imageFolder,
  textData,
  completionData,
  chatData,
] as unknown as AnyDatasetDefinition[];

export function builtinDataset(name: string): AnyDatasetDefinition | undefined {
  return BUILTIN_DATASETS.find((d) => d.name === name);
}
