import { resolve } from 'node:path';
import type { CorpusSpec, DatasetSource, DigitsDataSpec, TextArrays, TextDataSpec, Vocabulary } from '@rankwise/core';
import type { ClassificationData } from './classification.js';
import { loadDigits } from './digits/load-digits.js';
import { CharVocab } from './text/char-vocab.js';
import { HfTokenizer, type HfTokenizerJson } from './text/hf-tokenizer.js';
import { loadText, type TextSource } from './text/load-text.js';
import { splitTextBlocks } from './text/split-text-blocks.js';
import { readRecords } from './files/read-records.js';
import { loadImageFolder } from './files/image-folder.js';

function textSource(spec: CorpusSpec, baseDir: string): TextSource {
  if (spec.dataset === 'moby-dick') return { corpus: 'moby-dick' };
  if (spec.dataset === 'sotu') return { corpus: 'sotu', president: spec.president, party: spec.party, years: spec.years };
  return { corpus: 'file', path: resolve(baseDir, spec.path ?? '') };
}

interface Corpus {
  name: string;
  text: string;
}

/** One side of an encoded split, with the fraction of its ids the vocabulary knows. */
interface SplitSide {
  ids: Int32Array;
  coverage: number;
  bytesPerToken: number;
}

type EncodedSplit = Record<TextDataSpec['split'], SplitSide>;

/**
 * A cache key for option values that are undefined, numbers, strings or arrays of these; null (do not cache) for
 * anything else. Different keys may load the same data (a harmless miss); equal keys always load the same data
 * (numbers are keyed by String(), which only merges 0 and -0, and both give the same corpus and split).
 */
function optionKey(value: unknown): string | null {
  if (value === undefined) return 'u';
  if (typeof value === 'number') return `n${value}`;
  if (typeof value === 'string') return `s${JSON.stringify(value)}`;
  if (!Array.isArray(value)) return null;
  const parts = value.map(optionKey);
  return parts.every((part) => part !== null) ? `[${parts.join(',')}]` : null;
}

function sourceKey(source: TextSource): string | null {
  if (source.corpus === 'moby-dick') return 'moby-dick';
  if (source.corpus === 'file') return `file:${source.path}`;
  const parts = [source.president, source.party, source.years].map(optionKey);
  return parts.every((part) => part !== null) ? `sotu:${parts.join(';')}` : null;
}

function knownFraction(ids: Int32Array, unknownId: number | null): number {
  if (unknownId === null) return 1;
  let known = 0;
  for (const id of ids) if (id !== unknownId) known++;
  return ids.length === 0 ? 1 : known / ids.length;
}

/**
 * Shares a pending or finished load per key; a failed load is forgotten, so a later call tries again (and throws
 * the same error if nothing changed). A null key is not cached.
 */
function cachedIn<T>(cache: Map<string, Promise<T>>, key: string | null, load: () => Promise<T>): Promise<T> {
  if (key === null) return load();
  let pending = cache.get(key);
  if (pending === undefined) {
    pending = load();
    cache.set(key, pending);
    const settled = pending;
    settled.catch(() => {
      if (cache.get(key) === settled) cache.delete(key);
    });
  }
  return pending;
}

/**
 * What @rankwise/core's pipelines read data through (its `DatasetSource`; only the types come from core, so
 * this package stays free of core and of TensorFlow.js at run time).
 *
 * Each source remembers, for its lifetime (one pipeline runner), every corpus it loaded (by resolved source and
 * maxChars: files are read and parsed once) and every split it encoded (by corpus, vocabulary object,
 * validationFraction, blockSize and splitSeed), so the load, train and evaluate stages share one read, one encode
 * and one split. `text()` therefore returns the same `ids` array on each call with equal options: read it, do not
 * modify it.
 */
export function createDatasetSource(): DatasetSource {
  const corpora = new Map<string, Promise<Corpus>>();
  const splits = new WeakMap<Vocabulary, Map<string, Promise<EncodedSplit>>>();

  function corpus(spec: CorpusSpec, baseDir: string): { key: string | null; corpus: Promise<Corpus> } {
    const source = textSource(spec, baseDir);
    const sourceId = sourceKey(source);
    const maxChars = optionKey(spec.maxChars);
    const key = sourceId === null || maxChars === null ? null : `${sourceId}|${maxChars}`;
    const load = async (): Promise<Corpus> => {
      const loaded = await loadText(source);
      if (spec.maxChars === undefined) return { name: loaded.name, text: loaded.text };
      return { name: `${loaded.name}[:${spec.maxChars}]`, text: loaded.text.slice(0, spec.maxChars) };
    };
    return { key, corpus: cachedIn(corpora, key, load) };
  }

  function splitsFor(vocab: Vocabulary): Map<string, Promise<EncodedSplit>> | undefined {
    if ((typeof vocab !== 'object' && typeof vocab !== 'function') || vocab === null) return undefined;
    let cache = splits.get(vocab);
    if (cache === undefined) {
      cache = new Map();
      splits.set(vocab, cache);
    }
    return cache;
  }

  return {
    classification: (spec: DigitsDataSpec): Promise<ClassificationData> =>
      loadDigits({ split: spec.split, seed: spec.splitSeed ?? 0, testFraction: spec.testFraction, transform: spec.transform, limit: spec.limit }),
    corpusText: async (spec: CorpusSpec, baseDir: string): Promise<string> => (await corpus(spec, baseDir).corpus).text,
    async text(spec: TextDataSpec, vocab, baseDir: string): Promise<TextArrays> {
      const { key: corpusKey, corpus: pending } = corpus(spec, baseDir);
      const { name, text } = await pending;
      const options = [spec.validationFraction, spec.blockSize, spec.splitSeed].map(optionKey);
      const cache = splitsFor(vocab);
      const key = corpusKey === null || options.some((part) => part === null) ? null : `${corpusKey}|${options.join('|')}`;
      const encodeAndSplit = async (): Promise<EncodedSplit> => {
        const encoded = vocab.encode(text);
        const unknownId = vocab.unknownId === undefined ? 0 : vocab.unknownId;
        const bytesPerToken = encoded.length === 0 ? 1 : Buffer.byteLength(text, 'utf8') / encoded.length;
        const split = splitTextBlocks(encoded, {
          validationFraction: spec.validationFraction ?? 0.1,
          blockSize: spec.blockSize,
          seed: spec.splitSeed ?? 0,
        });
        return {
          train: { ids: split.train, coverage: knownFraction(split.train, unknownId), bytesPerToken },
          validation: { ids: split.validation, coverage: knownFraction(split.validation, unknownId), bytesPerToken },
        };
      };
      const split = await (cache === undefined ? encodeAndSplit() : cachedIn(cache, key, encodeAndSplit));
      const { ids, coverage, bytesPerToken } = spec.split === 'train' ? split.train : split.validation;
      return { name: `${name}/${spec.split}`, ids, coverage, bytesPerToken };
    },
    buildVocabulary: async (text: string, maxSize?: number) => CharVocab.build(text, maxSize === undefined ? {} : { maxSize }),
    vocabularyFromJSON: async (json: unknown) =>
      (json as { type?: unknown } | null)?.type === 'huggingface-tokenizer'
        ? HfTokenizer.fromJSON(json as HfTokenizerJson)
        : CharVocab.fromJSON(json as Parameters<typeof CharVocab.fromJSON>[0]),
    tokenizer: (dir: string) => HfTokenizer.fromDirectory(dir),
    records: readRecords,
    imageFolder: loadImageFolder,
  };
}
