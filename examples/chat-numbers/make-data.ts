/**
 * The data of pipelines/llama-chat-base.json and pipelines/llama-chat-lora.json: a synthetic instruction task, numbers
 * written in words ("Write 347 in words." → "three hundred forty-seven"), with a held-out test split of numbers that
 * appear nowhere in training (neither in pretraining nor in the chat data; 0–19, whose words cannot be composed,
 * always train), so the answer cannot be copied from
 * anything the model saw: it has to be composed from the digits.
 *
 * Writes (deterministic, seeded):
 *   data/pretrain.jsonl    {"text"}: plain sentences about the training numbers, one to three lines per document
 *                          (the base model's pretraining corpus; each document ends with the EOS token)
 *   data/chat-train.jsonl  {"messages"}: conversations about the training numbers (one or two questions, some with a
 *                          system message), for LoRA
 *   data/chat-test.jsonl   {"messages"}: one question about each held-out number; the last assistant message is the
 *                          reference answer
 *   data/text-test.jsonl   {"prompt", "completion"}: the held-out numbers as plain text ("347 is" → " three hundred
 *                          forty-seven."), to measure what the base model knows without the chat format
 *   tokenizer/tokenizer.json, tokenizer/tokenizer_config.json: a byte-level BPE trained on that text (digits kept one
 *                          token each), special tokens <|endoftext|> (padding), <|im_start|>, <|im_end|> (EOS, as
 *                          Qwen2.5-Instruct's: pretraining ends each document with it, so the token the chat turns
 *                          end with is a trained token), and a ChatML chat template
 *
 *   node --import tsx examples/chat-numbers/make-data.ts
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { trainBpe } from '../../scripts/bpe/train-bpe.js';

const here = dirname(fileURLToPath(import.meta.url));
const ONES = [
  'zero',
  'one',
  'two',
  'three',
  'four',
  'five',
  'six',
  'seven',
  'eight',
  'nine',
  'ten',
  'eleven',
  'twelve',
  'thirteen',
  'fourteen',
  'fifteen',
  'sixteen',
  'seventeen',
  'eighteen',
  'nineteen',
];
const TENS = ['', '', 'twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety'];

/** 0 … 999 in American English words, no "and": 347 → "three hundred forty-seven". */
export function numberWords(n: number): string {
  if (n < 20) return ONES[n];
  if (n < 100) return TENS[Math.floor(n / 10)] + (n % 10 ? `-${ONES[n % 10]}` : '');
  return `${ONES[Math.floor(n / 100)]} hundred${n % 100 ? ` ${numberWords(n % 100)}` : ''}`;
}

/** mulberry32: a small seeded generator (the data must be the same on every run). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const rand = random(20);
const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)];
const shuffle = <T>(items: T[]): T[] => {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
};

// 0–19 have words of their own (nothing to compose them from): always in training; 100 of 20–999 held out
const numbers = shuffle(Array.from({ length: 980 }, (_, i) => i + 20));
const test = numbers.slice(0, 100).sort((a, b) => a - b);
const train = [...Array.from({ length: 20 }, (_, i) => i), ...numbers.slice(100)];

const QUESTIONS = [
  (n: number) => `Write ${n} in words.`,
  (n: number) => `How do you spell ${n}?`,
  (n: number) => `Spell out the number ${n}.`,
  (n: number) => `What is ${n} in words?`,
  (n: number) => `Please write the number ${n} in words.`,
];
const SYSTEMS = ['You write numbers in words.', 'Answer with the number in words only.'];
const SENTENCES = [
  (n: number) => `${n} is ${numberWords(n)}.`,
  (n: number) => `${numberWords(n)} is written ${n}.`,
  (n: number) => `The number ${n} reads ${numberWords(n)}.`,
];

// documents of one to three lines (so the newline token is trained too)
const sentences = shuffle(train.flatMap((n) => SENTENCES.map((s) => s(n))));
const pretrain: Array<{ text: string }> = [];
for (let i = 0; i < sentences.length; ) {
  const lines = 1 + Math.floor(rand() * 3);
  pretrain.push({ text: sentences.slice(i, i + lines).join('\n') });
  i += lines;
}
const chatTrain = train.map((n) => {
  const messages: Array<{ role: string; content: string }> = [];
  if (rand() < 0.2) messages.push({ role: 'system', content: pick(SYSTEMS) });
  messages.push({ role: 'user', content: pick(QUESTIONS)(n) }, { role: 'assistant', content: numberWords(n) });
  if (rand() < 0.25) {
    const m = pick(train);
    messages.push({ role: 'user', content: pick(QUESTIONS)(m) }, { role: 'assistant', content: numberWords(m) });
  }
  return { messages };
});
const chatTest = test.map((n) => ({
  messages: [
    { role: 'user', content: pick(QUESTIONS)(n) },
    { role: 'assistant', content: numberWords(n) },
  ],
}));

const jsonl = (rows: object[]) => `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`;
mkdirSync(join(here, 'data'), { recursive: true });
writeFileSync(join(here, 'data/pretrain.jsonl'), jsonl(pretrain));
writeFileSync(join(here, 'data/chat-train.jsonl'), jsonl(chatTrain));
writeFileSync(join(here, 'data/chat-test.jsonl'), jsonl(chatTest));
// the held-out numbers as plain-text completions: what the base model knows of them without the chat format
writeFileSync(join(here, 'data/text-test.jsonl'), jsonl(test.map((n) => ({ prompt: `${n} is`, completion: ` ${numberWords(n)}.` }))));

const CHAT_TEMPLATE =
  "{%- for message in messages %}{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{%- endfor %}{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}";
const SPECIAL = ['<|endoftext|>', '<|im_start|>', '<|im_end|>'];
const corpus = [...sentences, ...chatTrain.flatMap((c) => c.messages.map((m) => `${m.role}\n${m.content}`))];
const tokenizer = trainBpe(corpus, { merges: 160, specialTokens: SPECIAL, splitDigits: true });
const config = {
  add_bos_token: false,
  add_prefix_space: false,
  bos_token: null,
  eos_token: '<|im_end|>',
  pad_token: '<|endoftext|>',
  unk_token: null,
  model_max_length: 64,
  clean_up_tokenization_spaces: false,
  tokenizer_class: 'PreTrainedTokenizerFast',
  chat_template: CHAT_TEMPLATE,
  added_tokens_decoder: Object.fromEntries(tokenizer.added_tokens.map((t) => [String(t.id), { ...t, id: undefined }])),
};
mkdirSync(join(here, 'tokenizer'), { recursive: true });
writeFileSync(join(here, 'tokenizer/tokenizer.json'), `${JSON.stringify(tokenizer)}\n`);
writeFileSync(join(here, 'tokenizer/tokenizer_config.json'), `${JSON.stringify(config, null, 2)}\n`);
const ids = Object.fromEntries(tokenizer.added_tokens.map((t) => [t.content, t.id]));
console.log(
  `train ${train.length} numbers (${pretrain.length} sentences, ${chatTrain.length} conversations), test ${test.length}; vocabulary ${256 + tokenizer.model.merges.length + SPECIAL.length} ids, special ${JSON.stringify(ids)}`,
);
