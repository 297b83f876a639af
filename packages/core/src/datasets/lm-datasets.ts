import { resolve } from 'node:path';
import {
  DataError,
  defineDataset,
  splitOf,
  type DataLocation,
  type DataRecord,
  type DatasetCheckContext,
  type DatasetOpenContext,
  type SequenceDataset,
  type TokenSequence,
} from '../contracts/dataset.js';
import type { DatasetSource, Vocabulary } from '../contracts/datasets.js';
import {
  LmChatDataSchema,
  LmCompletionDataSchema,
  LmTextDataSchema,
  type LmChatDataSpec,
  type LmCompletionDataSpec,
  type LmDataSpec,
  type LmTextDataSpec,
} from '../contracts/lm-data-schema.js';
import { escapePointer } from '../contracts/pointer.js';
import { ChatTemplate, specialTokenText, type ConversationMessage } from './chat-render.js';
import { MAX_LISTED_PROBLEMS } from './compat.js';
import { chatExample, chatReference, completionExample, lossTokens, packExamples, textExample, truncateExample, type LmExample } from './lm-examples.js';

/** Roles a conversation may hold. */
const ROLES = ['system', 'user', 'assistant'] as const;

type Parsed = { kind: 'text'; text: string } | { kind: 'completion'; prompt: string; completion: string } | { kind: 'chat'; messages: ConversationMessage[] };
type Problem = [pointer: string, message: string];

const found = (value: unknown): string => (value === undefined ? 'nothing' : (JSON.stringify(value) ?? String(value)).slice(0, 60));

/** One record as the dataset's format, or its problems (pointers inside the record). */
function parseRecord(options: LmDataSpec, value: Record<string, unknown>): Parsed | Problem[] {
  const text = (field: string, what: string, allowEmpty = false): string | Problem => {
    const v = value[field];
    if (!(field in value)) return [`/${escapePointer(field)}`, `missing field "${field}" (${what})`];
    if (typeof v !== 'string' || (!allowEmpty && v.trim() === ''))
      return [`/${escapePointer(field)}`, `found ${found(v)}, allowed: ${allowEmpty ? 'a string' : 'a non-empty string'} (${what})`];
    return v;
  };
  if (options.dataset === 'text') {
    const t = text(options.field ?? 'text', 'the document');
    return typeof t === 'string' ? { kind: 'text', text: t } : [t];
  }
  if (options.dataset === 'completion') {
    const prompt = text(options.promptField ?? 'prompt', 'the prompt', true);
    const completion = text(options.completionField ?? 'completion', 'the completion');
    const problems = [prompt, completion].filter((p): p is Problem => typeof p !== 'string');
    return problems.length > 0 ? problems : { kind: 'completion', prompt: prompt as string, completion: completion as string };
  }
  const field = options.messagesField ?? 'messages';
  const at = `/${escapePointer(field)}`;
  const list = value[field];
  if (!(field in value)) return [[at, `missing field "${field}" (the conversation: a list of {role, content})`]];
  if (!Array.isArray(list) || list.length === 0) return [[at, `found ${found(list)}, allowed: a non-empty list of messages {role, content}`]];
  const problems: Problem[] = [];
  const messages: ConversationMessage[] = [];
  list.forEach((m: unknown, i) => {
    const where = `${at}/${i}`;
    if (typeof m !== 'object' || m === null || Array.isArray(m)) return problems.push([where, `found ${found(m)}, allowed: a message {role, content}`]);
    const { role, content } = m as { role?: unknown; content?: unknown };
    if (!ROLES.includes(role as (typeof ROLES)[number])) return problems.push([`${where}/role`, `unknown role ${found(role)}; allowed: ${ROLES.join(', ')}`]);
    if (typeof content !== 'string') return problems.push([`${where}/content`, `found ${found(content)}, allowed: a string`]);
    if (role === 'assistant' && content.trim() === '')
      return problems.push([`${where}/content`, 'an empty assistant turn (nothing to train on or compare with)']);
    messages.push({ role: role as string, content });
  });
  if (problems.length === 0 && (options.assistantOnlyLoss ?? true) && !messages.some((m) => m.role === 'assistant'))
    problems.push([at, 'no assistant message: with assistantOnlyLoss the conversation has nothing to train on']);
  return problems.length > 0 ? problems : { kind: 'chat', messages };
}

/** Streams the records of the dataset's split (index counts every record, also unreadable ones, so splits are stable). */
async function* splitRecords(
  options: LmDataSpec,
  file: string,
  display: string,
  source: DatasetSource,
  onProblem?: (where: DataLocation, message: string) => void,
): AsyncGenerator<DataRecord> {
  if (!source.records) throw new Error('this version of @rankwise/datasets reads no data files');
  let index = 0;
  let kept = 0;
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  const problem =
    onProblem &&
    ((where: DataLocation, message: string) => {
      index++;
      onProblem(where, message);
    });
  for await (const record of source.records(file, {
    display,
    ...(options.format ? { format: options.format } : {}),
    ...(problem ? { onProblem: problem } : {}),
  })) {
    const i = index++;
    if (options.split !== undefined && splitOf(i, options.validationFraction ?? 0.1, options.splitSeed ?? 0) !== options.split) continue;
    if (kept++ >= limit) return;
    yield record;
  }
}

async function checkLm(options: LmDataSpec, ctx: DatasetCheckContext) {
  const file = resolve(ctx.dir, options.path);
  const display = ctx.show(file);
  let problems = 0;
  const report = (where: DataLocation, message: string) => {
    if (++problems <= MAX_LISTED_PROBLEMS) ctx.dataIssue(where, message);
  };
  let examples = 0;
  try {
    for await (const { value, where } of splitRecords(options, file, display, ctx.source, report)) {
      const parsed = parseRecord(options, value);
      if (Array.isArray(parsed)) for (const [pointer, message] of parsed) report({ ...where, pointer }, message);
      else examples++;
    }
  } catch (error) {
    if (error instanceof Error && error.name === 'DataError') {
      const e = error as DataError;
      report(e.location, e.problem);
      return null;
    }
    throw error;
  }
  if (problems > MAX_LISTED_PROBLEMS) ctx.dataIssue({ file: display }, `${problems - MAX_LISTED_PROBLEMS} more problems not listed`);
  if (problems > 0) return null;
  if (examples === 0) {
    ctx.dataIssue({ file: display }, options.split ? `no examples in split "${options.split}"; lower validationFraction or give more records` : 'no records');
    return null;
  }
  return { kind: 'sequences' as const, examples };
}

/** tokenizer_config.json of the model's tokenizer ({} for rankwise character vocabularies). */
function tokenizerConfig(vocabulary: Vocabulary): Record<string, unknown> {
  const json = vocabulary.toJSON() as { type?: string; config?: Record<string, unknown> };
  return json.type === 'huggingface-tokenizer' ? (json.config ?? {}) : {};
}

/** The single id a special token's text encodes to, or null. */
function tokenId(vocabulary: Vocabulary, text: string): number | null {
  if (text === '') return null;
  const ids = vocabulary.encode(text);
  return ids.length === 1 ? ids[0] : null;
}

async function openLm(options: LmDataSpec, ctx: DatasetOpenContext): Promise<SequenceDataset> {
  const display = options.path;
  const file = resolve(ctx.dir, options.path);
  const vocabulary = ctx.tokenizer;
  if (!vocabulary)
    throw new DataError(
      { file: display },
      'language-model data needs the model\'s tokenizer: load the model with "huggingface" (or one with a vocabulary) first',
    );
  const maxLength = options.maxLength ?? ctx.contextLength;
  if (maxLength === null) throw new DataError({ file: display }, 'the model has no context length; set "maxLength"');
  if (ctx.contextLength !== null && maxLength > ctx.contextLength)
    throw new DataError({ file: display, pointer: '/maxLength' }, `maxLength ${maxLength} is longer than the model's context (${ctx.contextLength})`);
  const config = tokenizerConfig(vocabulary);
  const eos = specialTokenText(config.eos_token);
  const bos = specialTokenText(config.bos_token);
  // Llama-style tokenizers add BOS to plain text (their post-processor); chat templates write their own
  const prefix = config.add_bos_token === true && tokenId(vocabulary, bos) !== null ? [tokenId(vocabulary, bos)!] : [];
  let template: ChatTemplate | null = null;
  if (options.dataset === 'chat') {
    const specials = { bos_token: bos, eos_token: eos, unk_token: specialTokenText(config.unk_token), pad_token: specialTokenText(config.pad_token) };
    try {
      template = options.chatTemplate !== undefined ? new ChatTemplate(options.chatTemplate, specials) : ChatTemplate.fromTokenizerConfig(config);
    } catch (error) {
      throw new DataError({ file: display, pointer: options.chatTemplate !== undefined ? '/chatTemplate' : '' }, (error as Error).message);
    }
    if (!template)
      throw new DataError(
        { file: display },
        'the model\'s tokenizer_config.json has no chat_template; give one with "chatTemplate" or use the "completion" format',
      );
  }
  const completionOnly = options.dataset === 'completion' ? (options.completionOnlyLoss ?? true) : false;
  const assistantOnly = options.dataset === 'chat' ? (options.assistantOnlyLoss ?? true) : false;
  const packing = options.packing ?? (options.dataset === 'text' ? 'bfd_split' : false);
  const wantReferences = options.dataset !== 'text' && (options.exactMatch ?? true);
  const examples: LmExample[] = [];
  const references: Array<{ prompt: Int32Array; answer: string; source: DataLocation }> = [];
  let truncated = 0;
  let dropped = 0;
  /** Examples whose prompt, tokenized alone, is not the start of their tokens (TRL warns of the same). */
  let promptMismatches = 0;
  const isPrefix = (prompt: Int32Array, ids: Int32Array) => prompt.length <= ids.length && prompt.every((id, i) => ids[i] === id);
  let read = 0;
  for await (const { value, where } of splitRecords(options, file, display, ctx.source)) {
    if (ctx.signal.aborted) throw new Error('aborted');
    read++;
    const parsed = parseRecord(options, value);
    if (Array.isArray(parsed)) throw new DataError({ ...where, pointer: parsed[0][0] }, parsed[0][1]);
    let example: LmExample;
    try {
      if (parsed.kind === 'text') example = textExample(vocabulary, parsed.text, eos, prefix);
      else if (parsed.kind === 'completion') {
        const e = completionExample(vocabulary, parsed.prompt, parsed.completion, eos, completionOnly, prefix);
        example = e;
        if (!isPrefix(e.promptIds, e.inputIds)) promptMismatches++;
        if (wantReferences)
          references.push({
            prompt: e.promptIds,
            answer: parsed.completion.endsWith(eos) && eos !== '' ? parsed.completion.slice(0, -eos.length) : parsed.completion,
            source: where,
          });
      } else {
        example = chatExample(vocabulary, template!, parsed.messages, assistantOnly);
        if (wantReferences && parsed.messages.length > 1 && parsed.messages[parsed.messages.length - 1].role === 'assistant') {
          const reference = chatReference(vocabulary, template!, parsed.messages);
          if (!isPrefix(reference.prompt, example.inputIds)) promptMismatches++;
          references.push({ ...reference, source: where });
        }
      }
    } catch (error) {
      const message = (error as Error).message;
      const pointer = /^(\/messages\/\d+\S*): /.exec(message);
      const field = options.dataset === 'chat' ? `/${escapePointer(options.messagesField ?? 'messages')}` : '';
      throw new DataError(
        { ...where, pointer: pointer ? pointer[1].replace('/messages', field) : field },
        pointer ? message.slice(pointer[0].length) : message,
      );
    }
    if (packing === false) {
      const cut = truncateExample(example, maxLength, options.truncation ?? 'keep_start');
      if (!cut) {
        dropped++;
        continue;
      }
      if (cut.truncated) truncated++;
      example = cut.example;
    } else if (packing === 'bfd' && example.inputIds.length > maxLength) truncated++;
    examples.push(example);
  }
  if (examples.length === 0)
    throw new DataError(
      { file: display },
      read === 0
        ? `no examples${options.split ? ` in split "${options.split}"` : ''}`
        : `all ${read} examples were dropped: none keeps a token that carries loss within maxLength ${maxLength}`,
    );
  const sequences: TokenSequence[] =
    packing === false ? examples.map((e) => ({ inputIds: e.inputIds, labels: e.labels })) : packExamples(examples, maxLength, packing);
  const stats = {
    examples: examples.length,
    tokens: sequences.reduce((n, s) => n + s.inputIds.length, 0),
    lossTokens: sequences.reduce((n, s) => n + lossTokens(s.labels), 0),
    truncated,
    dropped,
  };
  if (promptMismatches > 0) {
    ctx.info(
      `data: ${display}: warning: in ${promptMismatches} example(s) the prompt tokenized alone is not the start of the example's tokens (e.g. a prompt ending in a space: " a" is one token, " " + "a" two), so generation is prompted with tokens training never put there`,
    );
  }
  const padId = tokenId(vocabulary, specialTokenText(config.pad_token)) ?? tokenId(vocabulary, eos) ?? 0;
  const name = `${display}${options.split ? `/${options.split}` : ''}`;
  ctx.info(
    `data: ${name}: ${options.dataset} format, ${stats.examples.toLocaleString('en-US')} examples → ${sequences.length.toLocaleString('en-US')} sequences of at most ${maxLength} tokens${packing ? ` (packing ${packing})` : ''}`,
  );
  return {
    kind: 'sequences',
    name,
    maxLength,
    padId,
    async *sequences() {
      yield* sequences;
    },
    stats: async () => stats,
    ...(wantReferences && references.length > 0
      ? {
          async *references() {
            yield* references;
          },
        }
      : {}),
  };
}

const DESCRIPTION = {
  text: "Documents for a language model from a JSONL/JSON/CSV/TSV/Parquet file: EOS after each, every token carries loss, packed into maxLength sequences (TRL's language-modeling format).",
  completion: "Prompt-completion pairs for a language model: loss on the completion tokens only by default (TRL's completion_only_loss).",
  chat: "Conversations ({messages: [{role, content}]}) rendered with the model's chat template; loss on the assistant tokens only by default (TRL's assistant_only_loss).",
};

export const textData = defineDataset<LmTextDataSpec>({ name: 'text', description: DESCRIPTION.text, options: LmTextDataSchema, check: checkLm, open: openLm });
export const completionData = defineDataset<LmCompletionDataSpec>({
  name: 'completion',
  description: DESCRIPTION.completion,
  options: LmCompletionDataSchema,
  check: checkLm,
  open: openLm,
});
export const chatData = defineDataset<LmChatDataSpec>({ name: 'chat', description: DESCRIPTION.chat, options: LmChatDataSchema, check: checkLm, open: openLm });
