/**
 * A Hugging Face byte-level BPE tokenizer (tokenizer.json + tokenizer_config.json) as GGUF tokenizer metadata, the way
 * convert_hf_to_gguf.py's gpt2 vocabulary writes it (tokenizer.ggml.model "gpt2", tokens padded to the model's vocab
 * size with [PAD<id>], token types, merges "a b", special token ids, chat template), and back.
 */
import { GgufValueType } from './constants.js';
import type { GgufHeader, GgufValue } from './reader.js';
import { gguf } from './writer.js';

/** llama.cpp's token types (gguf-py's TokenType). */
export enum TokenType {
  NORMAL = 1,
  UNKNOWN = 2,
  CONTROL = 3,
  USER_DEFINED = 4,
  UNUSED = 5,
  BYTE = 6,
}

const LLAMA3_REGEX = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const QWEN2_REGEX = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const byteLevel = (useRegex: boolean) => ({ type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: useRegex });
const split = (regex: string) => ({ type: 'Split', pattern: { Regex: regex }, behavior: 'Isolated', invert: false });

/** tokenizer.ggml.pre values rankwise maps to a tokenizer.json pre-tokenizer (and recognises when writing). */
export const PRE_TOKENIZERS: Record<string, object> = {
  'gpt-2': byteLevel(true),
  'llama-bpe': { type: 'Sequence', pretokenizers: [split(LLAMA3_REGEX), byteLevel(false)] },
  qwen2: { type: 'Sequence', pretokenizers: [split(QWEN2_REGEX), byteLevel(false)] },
  smollm: { type: 'Sequence', pretokenizers: [{ type: 'Digits', individual_digits: true }, byteLevel(true)] },
};

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The GGUF pre-tokenizer name of a tokenizer.json pre_tokenizer, or null when none matches. */
export function preTokenizerName(preTokenizer: unknown): string | null {
  const canonical = (v: unknown): string =>
    JSON.stringify(v, (_k, x: unknown) =>
      isObject(x)
        ? Object.fromEntries(
            Object.entries(x)
              .filter(([k]) => k !== 'trim_offsets' && k !== 'add_prefix_space')
              .sort(),
          )
        : x,
    );
  const seen = canonical(preTokenizer);
  for (const [name, pre] of Object.entries(PRE_TOKENIZERS)) if (canonical(pre) === seen) return name;
  return null;
}

/** A special token's text from tokenizer_config.json (a string or an AddedToken object). */
const tokenText = (v: unknown): string | undefined => (typeof v === 'string' ? v : isObject(v) && typeof v.content === 'string' ? v.content : undefined);

/**
 * GGUF tokenizer metadata of a byte-level BPE tokenizer.json for a model of `vocabSize` embedding rows. Fails naming
 * the field for tokenizers GGUF's gpt2 model cannot express (other models, unknown pre-tokenizers).
 */
export function tokenizerMetadata(tokenizer: Json, config: Json, vocabSize: number, hfConfig: Json = {}): Map<string, GgufValue> {
  const model = tokenizer.model;
  if (!isObject(model) || model.type !== 'BPE' || !isObject(model.vocab))
    throw new Error(
      `tokenizer.json: /model/type: found ${JSON.stringify(isObject(model) ? model.type : model)}, allowed: "BPE" (byte-level BPE, GGUF's "gpt2" tokenizer)`,
    );
  const pre = preTokenizerName(tokenizer.pre_tokenizer);
  if (pre === null)
    throw new Error(
      `tokenizer.json: /pre_tokenizer: found ${JSON.stringify(tokenizer.pre_tokenizer).slice(0, 200)}, allowed: the pre-tokenizers of ${Object.keys(PRE_TOKENIZERS).join(', ')}`,
    );
  const byId = new Map<number, string>();
  for (const [token, id] of Object.entries(model.vocab as Record<string, number>)) byId.set(id, token);
  const added = new Map<number, { content: string; special: boolean }>();
  for (const t of (tokenizer.added_tokens as Json[] | undefined) ?? []) {
    if (typeof t.id === 'number' && typeof t.content === 'string') {
      added.set(t.id, { content: t.content, special: t.special === true });
      byId.set(t.id, t.content);
    }
  }
  const maxId = Math.max(...byId.keys());
  if (maxId >= vocabSize) throw new Error(`tokenizer.json: token id ${maxId} is past the model's ${vocabSize} embedding rows`);
  const tokens: string[] = [];
  const types: number[] = [];
  for (let id = 0; id < vocabSize; id++) {
    const token = byId.get(id);
    const add = added.get(id);
    if (token === undefined) {
      tokens.push(`[PAD${id}]`);
      types.push(TokenType.UNUSED);
    } else {
      tokens.push(token);
      // convert_hf_to_gguf: added tokens are control when special (or look like <|...|>), else user-defined.
      types.push(add ? (add.special || /^<\|.*\|>$/.test(add.content) ? TokenType.CONTROL : TokenType.USER_DEFINED) : TokenType.NORMAL);
    }
  }
  const merges = ((model.merges as unknown[] | undefined) ?? []).map((m) => (Array.isArray(m) ? m.join(' ') : String(m)));
  const out = new Map<string, GgufValue>([
    ['tokenizer.ggml.model', gguf.string('gpt2')],
    ['tokenizer.ggml.pre', gguf.string(pre)],
    ['tokenizer.ggml.tokens', gguf.strings(tokens)],
    ['tokenizer.ggml.token_type', gguf.i32s(types)],
    ['tokenizer.ggml.merges', gguf.strings(merges)],
  ]);
  const idOf = new Map([...byId].map(([id, t]) => [t, id]));
  for (const [kind, configId] of [
    ['bos', hfConfig.bos_token_id],
    ['eos', hfConfig.eos_token_id],
    ['unknown', undefined],
    ['padding', hfConfig.pad_token_id],
  ] as const) {
    const key = kind === 'unknown' ? 'unk_token' : kind === 'padding' ? 'pad_token' : `${kind}_token`;
    const text = tokenText(config[key]);
    const id = text !== undefined ? idOf.get(text) : typeof configId === 'number' ? configId : undefined;
    if (id !== undefined) out.set(`tokenizer.ggml.${kind}_token_id`, gguf.u32(id));
  }
  // HF adds no BOS unless tokenizer_config says so (or the post-processor is a template); llama.cpp must agree.
  const post = tokenizer.post_processor;
  const template = isObject(post) && (post.type === 'TemplateProcessing' || (post.type === 'Sequence' && JSON.stringify(post).includes('TemplateProcessing')));
  out.set('tokenizer.ggml.add_bos_token', gguf.bool(config.add_bos_token === true || (config.add_bos_token === undefined && template)));
  if (config.add_eos_token === true) out.set('tokenizer.ggml.add_eos_token', gguf.bool(true));
  if (typeof config.chat_template === 'string') out.set('tokenizer.chat_template', gguf.string(config.chat_template));
  return out;
}

/** Problems with a GGUF header's tokenizer metadata, one line each (empty when rankwise can build the tokenizer). */
export function tokenizerIssues(header: GgufHeader): string[] {
  const issues: string[] = [];
  const at = (key: string) => `${header.file}: /metadata/${key}`;
  const m = header.metadata;
  const model = m.get('tokenizer.ggml.model');
  if (model?.value !== 'gpt2')
    issues.push(
      `${at('tokenizer.ggml.model')}: found ${JSON.stringify(model?.value ?? null)}, allowed: "gpt2" (byte-level BPE; SentencePiece "llama" vocabularies are not supported)`,
    );
  const pre = m.get('tokenizer.ggml.pre')?.value ?? 'default';
  if (model?.value === 'gpt2' && (typeof pre !== 'string' || !(pre in PRE_TOKENIZERS)))
    issues.push(
      `${at('tokenizer.ggml.pre')}: found ${JSON.stringify(pre)}, allowed: ${Object.keys(PRE_TOKENIZERS)
        .map((p) => JSON.stringify(p))
        .join(', ')}`,
    );
  const arrayOf = (key: string, itemTypes: GgufValueType[], required: boolean): void => {
    const v = m.get(key);
    if (v === undefined) {
      if (required) issues.push(`${at(key)}: missing, allowed: an array`);
    } else if (v.type !== GgufValueType.ARRAY || !itemTypes.includes(v.itemType!))
      issues.push(
        `${at(key)}: found a value of type ${GgufValueType[v.itemType ?? v.type]}, allowed: an array of ${itemTypes.map((t) => GgufValueType[t]).join(' or ')}`,
      );
  };
  arrayOf('tokenizer.ggml.tokens', [GgufValueType.STRING], true);
  arrayOf('tokenizer.ggml.merges', [GgufValueType.STRING], model?.value === 'gpt2');
  arrayOf('tokenizer.ggml.token_type', [GgufValueType.INT32, GgufValueType.UINT32], false);
  const tokens = m.get('tokenizer.ggml.tokens')?.value;
  const types = m.get('tokenizer.ggml.token_type')?.value;
  if (Array.isArray(tokens) && Array.isArray(types) && tokens.length !== types.length)
    issues.push(`${at('tokenizer.ggml.token_type')}: found ${types.length} types, allowed: one per token (${tokens.length})`);
  return issues;
}

/** tokenizer.json and tokenizer_config.json of a GGUF header's gpt2 vocabulary (check `tokenizerIssues` first). */
export function tokenizerFromMetadata(header: GgufHeader): { tokenizer: Json; config: Json } {
  const m = header.metadata;
  const tokens = m.get('tokenizer.ggml.tokens')!.value as string[];
  const types = (m.get('tokenizer.ggml.token_type')?.value as number[] | undefined) ?? tokens.map(() => TokenType.NORMAL);
  const vocab: Record<string, number> = {};
  const added: Json[] = [];
  tokens.forEach((token, id) => {
    if (types[id] === TokenType.UNUSED) return;
    vocab[token] = id;
    if (types[id] === TokenType.CONTROL || types[id] === TokenType.USER_DEFINED) {
      added.push({
        id,
        content: token,
        single_word: false,
        lstrip: false,
        rstrip: false,
        normalized: types[id] !== TokenType.CONTROL,
        special: types[id] === TokenType.CONTROL,
      });
    }
  });
  const pre = (m.get('tokenizer.ggml.pre')?.value as string | undefined) ?? 'gpt-2';
  const tokenizer: Json = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: PRE_TOKENIZERS[pre],
    post_processor: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: true },
    decoder: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: pre === 'llama-bpe',
      vocab,
      merges: m.get('tokenizer.ggml.merges')!.value as string[],
    },
  };
  const config: Json = { add_prefix_space: false, clean_up_tokenization_spaces: false };
  for (const [kind, key] of [
    ['bos', 'bos_token'],
    ['eos', 'eos_token'],
    ['unknown', 'unk_token'],
    ['padding', 'pad_token'],
  ] as const) {
    const id = m.get(`tokenizer.ggml.${kind}_token_id`)?.value;
    if (typeof id === 'number' && tokens[id] !== undefined) config[key] = tokens[id];
  }
  const addBos = m.get('tokenizer.ggml.add_bos_token')?.value;
  if (typeof addBos === 'boolean') config.add_bos_token = addBos;
  const template = m.get('tokenizer.chat_template')?.value;
  if (typeof template === 'string') config.chat_template = template;
  return { tokenizer, config };
}
