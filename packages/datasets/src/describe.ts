/** One-line summaries of datasets for logs. */
import { classCounts, type ClassificationData } from './classification.js';
import type { TextCorpus } from './text/load-text.js';

function isText(data: ClassificationData | TextCorpus): data is TextCorpus {
  return typeof (data as TextCorpus).text === 'string';
}

/**
 * e.g. "digits/train/none: 7998 examples × 784 features, 10 classes [0:800 1:901 …]" or
 * "moby-dick: 1,212,345 characters, 139 documents".
 */
export function describeDataset(data: ClassificationData | TextCorpus): string {
  if (isText(data)) {
    const chars = data.text.length.toLocaleString('en-US');
    return `${data.name}: ${chars} characters (UTF-16 units), ${data.documents} document${data.documents === 1 ? '' : 's'}`;
  }
  const counts = Array.from(classCounts(data), (count, label) => `${label}:${count}`).join(' ');
  return `${data.name}: ${data.n} examples × ${data.features} features, ${data.classes} classes [${counts}]`;
}
