import { Type, type Static } from '@sinclair/typebox';
import { shared, StringEnum } from './schema-helpers.js';
import { RECORD_FORMATS } from './dataset.js';

/** Options of the language-model datasets text, completion and chat (TRL's dataset formats). */

const common = {
  path: Type.String({
    minLength: 1,
    description: 'A .jsonl, .json (array of objects), .csv, .tsv or .parquet file, optionally .gz, relative to the pipeline file.',
  }),
  format: Type.Optional(StringEnum(RECORD_FORMATS, { description: 'The file format when the extension does not say it.' })),
  split: Type.Optional(StringEnum(['train', 'validation'], { description: 'Which side of the seeded split (validationFraction); every record when absent.' })),
  validationFraction: Type.Optional(
    Type.Number({
      exclusiveMinimum: 0,
      exclusiveMaximum: 1,
      default: 0.1,
      description: 'With "split": the share of records held out for validation (seeded by splitSeed, decided per record).',
    }),
  ),
  splitSeed: Type.Optional(Type.Integer({ minimum: 0, default: 0, description: 'Seed of the train/validation split.' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, description: 'Use only the first this many examples (of the split).' })),
  maxLength: Type.Optional(Type.Integer({ minimum: 2, description: "Longest sequence in tokens (TRL's max_length); default the model's context." })),
  truncation: Type.Optional(
    StringEnum(['keep_start', 'keep_end'], {
      default: 'keep_start',
      description:
        "Longer examples keep their first (keep_start) or last (keep_end) maxLength tokens; an example left without loss tokens is dropped (TRL's truncation_mode).",
    }),
  ),
};

const PACKING = (fallback: string) =>
  Type.Optional(
    Type.Union([Type.Literal(false), Type.Literal('bfd'), Type.Literal('bfd_split'), Type.Literal('wrapped')], {
      default: fallback === 'false' ? false : fallback,
      description:
        'Pack examples into maxLength sequences (TRL\'s packing_strategy): "bfd" best fit decreasing, over-long examples cut; "bfd_split" the same, over-long examples split; each packed example keeps its own positions and attends only to itself (Llama family). "wrapped": joined and cut every maxLength tokens, attention across examples. false: one example per sequence, padded in batches.',
    }),
  );

const EXACT_MATCH = {
  exactMatch: Type.Optional(
    Type.Boolean({
      default: true,
      description:
        "evaluate: greedy-decode an answer to each example's prompt and report exact match against the reference (the completion, or the last assistant message).",
    }),
  ),
  maxNewTokens: Type.Optional(
    Type.Integer({ minimum: 1, maximum: 4096, description: 'exactMatch: tokens to generate per answer (default the longest reference + 8).' }),
  ),
};

export const LmTextDataSchema = shared(
  'lmTextData',
  Type.Object(
    {
      dataset: Type.Literal('text', { description: 'Documents (a "text" field or column) for a language model.' }),
      ...common,
      field: Type.Optional(Type.String({ minLength: 1, default: 'text', description: 'The field (column) holding each document.' })),
      packing: PACKING('bfd_split'),
    },
    {
      additionalProperties: false,
      description:
        "Documents for a language model (TRL's language-modeling format): each ends with the tokenizer's EOS token, every token carries loss; packed into maxLength sequences by default.",
    },
  ),
);

export const LmCompletionDataSchema = shared(
  'lmCompletionData',
  Type.Object(
    {
      dataset: Type.Literal('completion', { description: 'Prompt and completion pairs for a language model.' }),
      ...common,
      promptField: Type.Optional(Type.String({ minLength: 1, default: 'prompt', description: 'The field (column) holding the prompt.' })),
      completionField: Type.Optional(Type.String({ minLength: 1, default: 'completion', description: 'The field (column) holding the completion.' })),
      completionOnlyLoss: Type.Optional(
        Type.Boolean({ default: true, description: "Loss on the completion tokens only (TRL's completion_only_loss); false also trains on the prompt." }),
      ),
      packing: PACKING('false'),
      ...EXACT_MATCH,
    },
    {
      additionalProperties: false,
      description:
        "Prompt-completion pairs (TRL's prompt-completion format): the completion ends with the tokenizer's EOS token and, by default, only its tokens carry loss.",
    },
  ),
);

export const LmChatDataSchema = shared(
  'lmChatData',
  Type.Object(
    {
      dataset: Type.Literal('chat', { description: "Conversations ({messages: [{role, content}]}) rendered with the model's chat template." }),
      ...common,
      messagesField: Type.Optional(
        Type.String({ minLength: 1, default: 'messages', description: 'The field holding the list of messages ({role: system|user|assistant, content}).' }),
      ),
      assistantOnlyLoss: Type.Optional(
        Type.Boolean({
          default: true,
          description:
            "Loss on the assistant's tokens only (TRL's assistant_only_loss; rankwise defaults to true); false also trains on system and user turns.",
        }),
      ),
      chatTemplate: Type.Optional(
        Type.String({ minLength: 1, description: "A Jinja chat template to use instead of the one in the model's tokenizer_config.json." }),
      ),
      packing: PACKING('false'),
      ...EXACT_MATCH,
    },
    {
      additionalProperties: false,
      description:
        "Conversations rendered with the model's chat template (tokenizer_config.json, @huggingface/jinja); by default only the assistant's tokens carry loss.",
    },
  ),
);

export type LmTextDataSpec = Static<typeof LmTextDataSchema>;
export type LmCompletionDataSpec = Static<typeof LmCompletionDataSchema>;
export type LmChatDataSpec = Static<typeof LmChatDataSchema>;
export type LmDataSpec = LmTextDataSpec | LmCompletionDataSpec | LmChatDataSpec;
