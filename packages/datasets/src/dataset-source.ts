import { resolve } from 'node:path';
import type { CorpusSpec, DatasetSource, DigitsDataSpec, TextArrays, TextDataSpec } from '@rankwise/core';
import type { ClassificationData } from './classification.js';
import { loadDigits } from './digits/load-digits.js';
import { CharVocab } from './text/char-vocab.js';
import { loadText, type TextSource } from './text/load-text.js';
import { splitTextBlocks } from './text/split-text-blocks.js';

function textSource(spec: CorpusSpec, baseDir: string): TextSource {
  if (spec.dataset === 'moby-dick') return { corpus: 'moby-dick' };
  if (spec.dataset === 'sotu') return { corpus: 'sotu', president: spec.president, party: spec.party, years: spec.years };
  return { corpus: 'file', path: resolve(baseDir, spec.path ?? '') };
}

async function corpus(spec: CorpusSpec, baseDir: string): Promise<{ name: string; text: string }> {
  const loaded = await loadText(textSource(spec, baseDir));
  if (spec.maxChars === undefined) return { name: loaded.name, text: loaded.text };
  return { name: `${loaded.name}[:${spec.maxChars}]`, text: loaded.text.slice(0, spec.maxChars) };
}

/**
 * What @rankwise/core's pipelines read data through (its `DatasetSource`; only the types come from core, so
 * this package stays free of core and of TensorFlow.js at run time).
 */
export function createDatasetSource(): DatasetSource {
  return {
    classification: (spec: DigitsDataSpec): Promise<ClassificationData> =>
      loadDigits({ split: spec.split, seed: spec.splitSeed ?? 0, testFraction: spec.testFraction, transform: spec.transform, limit: spec.limit }),
    corpusText: async (spec: CorpusSpec, baseDir: string): Promise<string> => (await corpus(spec, baseDir)).text,
    async text(spec: TextDataSpec, vocab, baseDir: string): Promise<TextArrays> {
      const { name, text } = await corpus(spec, baseDir);
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
    buildVocabulary: async (text: string, maxSize?: number) => CharVocab.build(text, maxSize === undefined ? {} : { maxSize }),
    vocabularyFromJSON: async (json: unknown) => CharVocab.fromJSON(json as Parameters<typeof CharVocab.fromJSON>[0]),
  };
}
