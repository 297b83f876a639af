import { resolve } from 'node:path';
import type { ClassificationData } from './classification.js';
import { loadDigits } from './digits/load-digits.js';
import type { DigitTransform } from './digits/transforms.js';
import { CharVocab } from './text/char-vocab.js';
import { loadText, type TextSource } from './text/load-text.js';
import { splitTextBlocks } from './text/split-text-blocks.js';

/**
 * The data specs of pipeline files (see @rankwise/core's pipeline schema), mirrored here so this package
 * stays free of core and of TensorFlow.js.
 */
export interface DigitsSpec {
  dataset: 'digits';
  split: 'train' | 'test';
  transform?: DigitTransform;
  testFraction?: number;
  limit?: number;
  splitSeed?: number;
}

export interface TextSpec {
  dataset: 'moby-dick' | 'sotu' | 'text-file';
  split: 'train' | 'validation';
  path?: string;
  president?: string | string[];
  party?: string | string[];
  years?: [number, number];
  validationFraction?: number;
  blockSize?: number;
  maxChars?: number;
  splitSeed?: number;
}

/** A corpus without a split (e.g. for building a vocabulary). */
export type CorpusSpec = Omit<TextSpec, 'split' | 'validationFraction' | 'blockSize' | 'splitSeed'>;

export interface TextSplitData {
  name: string;
  ids: Int32Array;
  coverage: number;
}

function textSource(spec: CorpusSpec, baseDir: string): TextSource {
  if (spec.dataset === 'moby-dick') return { corpus: 'moby-dick' };
  if (spec.dataset === 'sotu') return { corpus: 'sotu', president: spec.president, party: spec.party, years: spec.years };
  return { corpus: 'file', path: resolve(baseDir, spec.path ?? '') };
}

/** What @rankwise/core's pipelines call to get data (its `DatasetSource` interface). */
export function createDatasetSource() {
  const corpusText = async (spec: CorpusSpec, baseDir: string): Promise<{ name: string; text: string }> => {
    const corpus = await loadText(textSource(spec, baseDir));
    const text = spec.maxChars === undefined ? corpus.text : corpus.text.slice(0, spec.maxChars);
    return { name: spec.maxChars === undefined ? corpus.name : `${corpus.name}[:${spec.maxChars}]`, text };
  };
  return {
    classification: (spec: DigitsSpec): Promise<ClassificationData> =>
      loadDigits({ split: spec.split, seed: spec.splitSeed ?? 0, testFraction: spec.testFraction, transform: spec.transform, limit: spec.limit }),
    corpusText: async (spec: CorpusSpec, baseDir: string): Promise<string> => (await corpusText(spec, baseDir)).text,
    async text(spec: TextSpec, vocab: CharVocab, baseDir: string): Promise<TextSplitData> {
      const { name, text } = await corpusText(spec, baseDir);
      const split = splitTextBlocks(vocab.encode(text), {
        validationFraction: spec.validationFraction ?? 0.1,
        blockSize: spec.blockSize,
        seed: spec.splitSeed ?? 0,
      });
      const ids = spec.split === 'train' ? split.train : split.validation;
      let known = 0;
      for (const id of ids) if (id !== 0) known++;
      return { name: `${name}/${spec.split}`, ids, coverage: ids.length === 0 ? 1 : known / ids.length };
    },
    buildVocabulary: async (text: string, maxSize?: number): Promise<CharVocab> => CharVocab.build(text, maxSize === undefined ? {} : { maxSize }),
    vocabularyFromJSON: async (json: unknown): Promise<CharVocab> => CharVocab.fromJSON(json as Parameters<typeof CharVocab.fromJSON>[0]),
  };
}
