import type { CorpusSpec, DigitsDataSpec, TextDataSpec } from './data-schema.js';
import type { ClassificationDataset, DataRecord, RecordReadOptions, SplitName } from './dataset.js';

/** Classification data as arrays: x [n, features] row-major, y [n] labels. */
export interface ClassificationArrays {
  name: string;
  x: Float32Array;
  y: Int32Array;
  n: number;
  features: number;
  classes: number;
  /** Class names in label order (evaluation output, saved with the model). */
  classNames?: string[];
  /** One example's shape (default [features]). */
  inputShape?: number[];
}

/** A character vocabulary (saved with language models), or a model's own tokenizer (tokenizer.json). */
export interface Vocabulary {
  readonly size: number;
  encode(text: string): Int32Array;
  decode(ids: ArrayLike<number>): string;
  toJSON(): object;
  /** The id of unknown input, never sampled (default 0, rankwise's character vocabularies); null when there is none. */
  readonly unknownId?: number | null;
  /** What one id stands for: 'char' (default) or 'token' (subword tokenizers); names the per-id metric. */
  readonly unit?: 'char' | 'token';
  /** Writes the tokenizer's own files into a model directory (tokenizers from Hugging Face model directories). */
  save?(dir: string): Promise<void>;
}

/** Token ids of one split of a corpus. */
export interface TextArrays {
  name: string;
  ids: Int32Array;
  /** Characters of the split the vocabulary knows, as a fraction. */
  coverage: number;
  /** UTF-8 bytes of the corpus per id (for bits per byte). */
  bytesPerToken?: number;
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
  /** The tokenizer of a Hugging Face model directory (tokenizer.json). */
  tokenizer?(dir: string): Promise<Vocabulary>;
  /**
   * Streams the records of a data file (JSONL, JSON array, CSV, TSV, Parquet; optionally gzipped), never reading
   * it whole. A record that cannot be read (a line that is not JSON, a row of the wrong width) throws a DataError
   * naming the file, line/row and pointer.
   */
  records?(path: string, options?: RecordReadOptions): AsyncIterable<DataRecord>;
  /**
   * Images in one sub-folder per class (PNG, JPEG, …), decoded and resized to `shape` [height, width, channels],
   * values in [0, 1]; class names are the sorted folder names.
   */
  imageFolder?(dir: string, options: ImageFolderOptions): Promise<ClassificationDataset>;
}

export interface ImageFolderOptions {
  /** [height, width, channels], channels 1 (grey), 3 (RGB) or 4 (RGBA). */
  shape: [number, number, number];
  /** 'validation' / 'train' side of a seeded split (per class), or every image when absent. */
  split?: SplitName;
  validationFraction?: number;
  seed?: number;
  /** The folder as shown in messages. */
  display?: string;
  /** Report every problem (a file that does not decode) instead of throwing at the first: validation. */
  onProblem?: (file: string, message: string) => void;
}
