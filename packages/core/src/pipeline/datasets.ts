import { defaultModuleLoader, type ModuleLoader } from '../backend/module-loader.js';
import type { CorpusSpec, DigitsDataSpec, TextDataSpec } from './types.js';

/** Classification data as arrays: x [n, features] row-major, y [n] labels. */
export interface ClassificationArrays {
  name: string;
  x: Float32Array;
  y: Int32Array;
  n: number;
  features: number;
  classes: number;
}

/** A character vocabulary (saved with language models). */
export interface Vocabulary {
  readonly size: number;
  encode(text: string): Int32Array;
  decode(ids: ArrayLike<number>): string;
  toJSON(): object;
}

/** Token ids of one split of a corpus. */
export interface TextArrays {
  name: string;
  ids: Int32Array;
  /** Characters of the split the vocabulary knows, as a fraction. */
  coverage: number;
}

/** Where pipelines get data. `@rankwise/datasets` implements it; tests may register their own. */
export interface DatasetSource {
  classification(spec: DigitsDataSpec): Promise<ClassificationArrays>;
  /** The raw text of a corpus (for building a vocabulary) and one split encoded with `vocab`. */
  corpusText(spec: CorpusSpec, baseDir: string): Promise<string>;
  text(spec: TextDataSpec, vocab: Vocabulary, baseDir: string): Promise<TextArrays>;
  /** Characters of `text`, at most `maxSize` ids including the unknown id 0 (the most frequent kept). */
  buildVocabulary(text: string, maxSize?: number): Promise<Vocabulary>;
  vocabularyFromJSON(json: unknown): Promise<Vocabulary>;
}

/** Loads `@rankwise/datasets` on first use, so core itself carries no data. */
export function lazyDatasetSource(loader: ModuleLoader = defaultModuleLoader): DatasetSource {
  let source: Promise<DatasetSource> | null = null;
  const get = (): Promise<DatasetSource> => {
    source ??= loader('@rankwise/datasets').then((m) => {
      const create = (m as { createDatasetSource?: () => DatasetSource }).createDatasetSource;
      if (typeof create !== 'function') throw new Error('@rankwise/datasets does not export createDatasetSource()');
      return create();
    }, (error: unknown) => {
      throw new Error(`pipelines need data from @rankwise/datasets, which failed to load: ${(error as Error).message}`);
    });
    return source;
  };
  return {
    classification: async (spec) => (await get()).classification(spec),
    corpusText: async (spec, dir) => (await get()).corpusText(spec, dir),
    text: async (spec, vocab, dir) => (await get()).text(spec, vocab, dir),
    buildVocabulary: async (text, maxSize) => (await get()).buildVocabulary(text, maxSize),
    vocabularyFromJSON: async (json) => (await get()).vocabularyFromJSON(json),
  };
}
