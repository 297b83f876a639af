import type { CorpusSpec, DigitsDataSpec, TextDataSpec } from './data-schema.js';

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

/** Where pipelines get data. `@rankwise/datasets` implements it; replace it with `createRankwise({ datasets })`. */
export interface DatasetSource {
  classification(spec: DigitsDataSpec): Promise<ClassificationArrays>;
  /** The raw text of a corpus (for building a vocabulary) and one split encoded with `vocab`. */
  corpusText(spec: CorpusSpec, baseDir: string): Promise<string>;
  text(spec: TextDataSpec, vocab: Vocabulary, baseDir: string): Promise<TextArrays>;
  /** Characters of `text`, at most `maxSize` ids including the unknown id 0 (the most frequent kept). */
  buildVocabulary(text: string, maxSize?: number): Promise<Vocabulary>;
  vocabularyFromJSON(json: unknown): Promise<Vocabulary>;
}
