import type { ModelDescription } from '@rankwise/models/description';
import type { JsonObject } from '@rankwise/models/types/json';
import type { DatasetSource, Vocabulary } from './datasets.js';

/**
 * The dataset contract: a dataset is a plain object, like a stage (`defineDataset`), named by `"dataset"` in a
 * pipeline's `data` object. Built-ins are named `digits`, `moby-dick`, …; dataset packages (npm keyword
 * `rankwise-plugin`) by their npm package name. `check` runs at validation (nothing loads; it reads the files the run
 * will read and reports every problem as one issue), `open` when a stage needs the data. What `open` returns is one
 * of the typed forms below, and the task that consumes it is chosen by its `kind`.
 */

/** Where a problem in a data file is: the file (as given), 1-based line or 0-based row, and a JSON pointer inside the record. */
export interface DataLocation {
  file: string;
  /** 1-based line of a text format (JSONL, CSV, TSV). */
  line?: number;
  /** 0-based row / record index (JSON arrays, Parquet; also set for line formats). */
  row?: number;
  /** Pointer inside the record, e.g. `/label` or `/messages/2/content`. */
  pointer?: string;
}

/** A thrown data problem: `rankwise` prints it as one line and exits 2. Recognised by `name`. */
export class DataError extends Error {
  constructor(
    readonly location: DataLocation,
    readonly problem: string,
  ) {
    super(`${formatDataLocation(location)}: ${problem}`);
    this.name = 'DataError';
  }
}

export function isDataError(error: unknown): error is DataError {
  return error instanceof Error && error.name === 'DataError' && typeof (error as Partial<DataError>).problem === 'string';
}

/** `data/train.jsonl:12 /label` (line formats), `data/x.parquet row 40 /label`. */
export function formatDataLocation(where: DataLocation): string {
  const at = where.line !== undefined ? `:${where.line}` : where.row !== undefined ? ` row ${where.row}` : '';
  return `${where.file}${at}${where.pointer ? ` ${where.pointer}` : ''}`;
}

// ---- what a dataset yields ----

/**
 * Classification examples, in memory: x [n, ...inputShape] row-major, y [n] labels in [0, classNames.length).
 * `inputShape` is one example's shape without the batch axis ([features] for rows, [height, width, channels] for
 * images); the model's input must hold its product of values.
 */
export interface ClassificationDataset {
  kind: 'classification';
  /** e.g. 'iris.csv/train'. */
  name: string;
  inputShape: number[];
  /** Class names in label order (label i is classNames[i]); saved with the model and used in evaluation output. */
  classNames: string[];
  n: number;
  x: Float32Array;
  y: Int32Array;
}

/** Ignored label (no loss): the PyTorch / Hugging Face convention. */
export const IGNORE_INDEX = -100;

/**
 * One tokenized example for a language model. `labels[t]` is the target for position t in Hugging Face's
 * convention: the token itself (`labels[t] = inputIds[t]` where it carries loss, IGNORE_INDEX where not). The task
 * shifts: the logits at position t predict labels[t + 1]. `attentionMask` (1 = real token) defaults to all ones;
 * `positionIds` (packed sequences: reset to 0 at each packed example's start) default to 0..length-1.
 */
export interface TokenSequence {
  inputIds: Int32Array;
  labels: Int32Array;
  attentionMask?: Uint8Array;
  positionIds?: Int32Array;
  /** Where it came from (for messages). */
  source?: DataLocation;
}

/** What was read and tokenized, printed before training and recorded in summary.json (`data`). */
export interface SequenceStats {
  examples: number;
  tokens: number;
  /** Tokens whose label is not IGNORE_INDEX. */
  lossTokens: number;
  /** Examples cut to maxLength (or dropped, per the truncation policy). */
  truncated: number;
  dropped?: number;
}

/**
 * Token sequences for a language model, streamed: `sequences()` reads the source again on each call, in the same
 * order (shuffling is the task's, seeded). Large files are never held whole. `stats()` may read the whole source once
 * (it streams too); datasets that already know them return them without reading.
 */
export interface SequenceDataset {
  kind: 'sequences';
  name: string;
  /** Every sequence is at most this long (the model's context unless the dataset says less). */
  maxLength: number;
  /** The id batches are padded with (its label is IGNORE_INDEX; its attention mask is 0). */
  padId: number;
  sequences(signal?: AbortSignal): AsyncIterable<TokenSequence>;
  stats(signal?: AbortSignal): Promise<SequenceStats>;
  /** Held-out prompts and reference answers, for generation metrics (exact match) of instruction data. */
  references?(signal?: AbortSignal): AsyncIterable<{ prompt: Int32Array; answer: string; source?: DataLocation }>;
}

/** A corpus of ids for next-token prediction over random windows (the built-in text corpora). */
export interface CorpusDataset {
  kind: 'corpus';
  name: string;
  ids: Int32Array;
  /** Characters of the split the vocabulary knows, as a fraction. */
  coverage: number;
  bytesPerToken?: number;
  /** Evaluate at most this many windows. */
  maxWindows?: number;
}

export type OpenedDataset = ClassificationDataset | SequenceDataset | CorpusDataset;
export type DatasetKind = OpenedDataset['kind'];

/**
 * What validation learns about the data without loading it for training: the kind, and for classification the
 * example shape and the classes, checked against the model (input size, number of outputs).
 */
export type DatasetFacts =
  | { kind: 'classification'; inputShape: number[]; classNames: string[]; examples?: number }
  | { kind: 'sequences' | 'corpus'; examples?: number };

// ---- contexts ----

/** What `check` sees: validation time, nothing loaded, no tensors. */
export interface DatasetCheckContext {
  /** The pipeline file as shown in messages, and the directory its relative paths resolve from. */
  readonly file: string;
  readonly dir: string;
  /** The model the data will feed, as known from its config (null when unknown). */
  readonly model: ModelDescription | null;
  /** Built-in readers (records of JSONL/JSON/CSV/TSV/Parquet, image folders); loaded lazily. */
  readonly source: DatasetSource;
  /** Reports a problem with the options; `pointer` is relative to the data object (`''`, `/path`). */
  issue(pointer: string, message: string): void;
  /** Reports a problem inside a data file: one line with file, line/row and pointer. */
  dataIssue(where: DataLocation, message: string): void;
  /** Display form of an absolute path (relative to the working directory). */
  show(path: string): string;
}

/** What `open` gets: run time. */
export interface DatasetOpenContext {
  readonly dir: string;
  /** Seed of the data (splits that are not fixed by `splitSeed` use it). */
  readonly seed: number;
  readonly signal: AbortSignal;
  /** The model's vocabulary or tokenizer (language models), or null. */
  readonly tokenizer: Vocabulary | null;
  /** The model's context length (language models), or null. */
  readonly contextLength: number | null;
  /** The model's input shape without the batch axis (classification models whose input is known), or null. */
  readonly inputShape: number[] | null;
  readonly source: DatasetSource;
  /** A line of progress output. */
  info(message: string): void;
}

// ---- the definition ----

/**
 * One dataset: a plain object. `options` is a JSON Schema object for the data object's keys besides `dataset`
 * (every property has a description; `additionalProperties: false` is added when absent).
 */
export interface DatasetDefinition<Options = JsonObject> {
  /** Built-ins: digits, moby-dick, …; packages: their npm package name. */
  name: string;
  description: string;
  options: Record<string, unknown>;
  /** Validation: reads what the run will read and reports problems; returns what it learned. */
  // biome-ignore lint/suspicious/noConfusingVoidType: lets a check that returns nothing (only reports issues) type-check
  check?(options: Options, ctx: DatasetCheckContext): DatasetFacts | null | undefined | void | Promise<DatasetFacts | null | undefined | void>;
  open(options: Options, ctx: DatasetOpenContext): Promise<OpenedDataset>;
}

export type AnyDatasetDefinition = DatasetDefinition<never>;

/** Returns its argument; exists for type inference. */
export function defineDataset<Options = JsonObject>(dataset: DatasetDefinition<Options>): DatasetDefinition<Options> {
  return dataset;
}

/** A dataset package's default export, recognised by shape (so a second copy of core still fits). */
export function isDatasetDefinition(value: unknown): value is AnyDatasetDefinition {
  const d = value as Partial<DatasetDefinition> | null;
  return !!d && typeof d === 'object' && typeof d.name === 'string' && typeof d.open === 'function' && typeof d.options === 'object' && !('run' in d);
}

// ---- records: what file datasets read ----

/** File formats of records; `.gz` on any of them is decompressed while streaming. */
export const RECORD_FORMATS = ['jsonl', 'json', 'csv', 'tsv', 'parquet'] as const;
export type RecordFormat = (typeof RECORD_FORMATS)[number];

export interface RecordReadOptions {
  /** Default: from the extension (.jsonl/.ndjson, .json, .csv, .tsv, .parquet, each optionally + .gz). */
  format?: RecordFormat;
  /** The path as shown in messages (default: the path). */
  display?: string;
  /**
   * Validation: a record that does not parse (a JSONL line that is not JSON, an array element that is not an object)
   * is reported here and skipped, and reading goes on; without it, the reader throws a DataError. Problems with the
   * file as a whole (not found, not gzip, not Parquet) always throw.
   */
  onProblem?: (where: DataLocation, message: string) => void;
}

/** One record of a data file, streamed: a JSON object (CSV/TSV: column → string; Parquet: column → value). */
export interface DataRecord {
  value: Record<string, unknown>;
  where: DataLocation;
}

/**
 * Which side of a seeded split a record falls on, from its 0-based index alone (so a stream can split without
 * reading ahead): validation when hash(seed, index) / 2^32 < validationFraction.
 */
export type SplitName = 'train' | 'validation';

export function splitOf(index: number, validationFraction: number, seed: number): SplitName {
  // murmur3's 32-bit finaliser over (seed, index): independent of the stream's length and of other records
  let h = (Math.imul(seed >>> 0, 0x9e3779b1) ^ (index >>> 0) ^ Math.floor(index / 2 ** 32)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h = (h ^ (h >>> 16)) >>> 0;
  return h / 2 ** 32 < validationFraction ? 'validation' : 'train';
}
