/**
 * Writes test/fixtures/chat-templates/tokenizer.json: a byte-level BPE (scripts/bpe/train-bpe.ts) trained on the
 * fixture conversations and templates, with the special tokens of every fixture family, so the chat-template and
 * loss-mask references (reference.py) and rankwise's tests tokenize the same text the same way.
 *
 *   node --import tsx scripts/chat-reference/make-tokenizer.ts && python3 scripts/chat-reference/reference.py
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { trainBpe } from '../bpe/train-bpe.js';

const dir = 'test/fixtures/chat-templates';
const { families } = JSON.parse(readFileSync(`${dir}/templates.json`, 'utf8')) as { families: Array<{ template: string }> };
const { conversations } = JSON.parse(readFileSync(`${dir}/conversations.json`, 'utf8')) as { conversations: Array<{ messages: Array<{ content: string }> }> };
const SPECIAL = [
  '<|endoftext|>',
  '<|im_start|>',
  '<|im_end|>',
  '<|begin_of_text|>',
  '<|start_header_id|>',
  '<|end_header_id|>',
  '<|eot_id|>',
  '<s>',
  '</s>',
  '[INST]',
  '[/INST]',
  '<bos>',
  '<eos>',
  '<start_of_turn>',
  '<end_of_turn>',
];
const corpus = [
  ...conversations.flatMap((c) => c.messages.map((m) => m.content)),
  ...families.map((f) => f.template),
  'user assistant system model Cutting Knowledge Date: December 2023 Today Date: 26 Jul 2024 You are Qwen, created by Alibaba Cloud. You are a helpful assistant. You are a helpful AI assistant named SmolLM, trained by Hugging Face',
];
const tokenizer = trainBpe(corpus, { merges: 200, specialTokens: SPECIAL });
writeFileSync(`${dir}/tokenizer.json`, `${JSON.stringify(tokenizer)}\n`);
console.log(`${dir}/tokenizer.json: ${Object.keys(tokenizer.model.vocab).length} tokens + ${SPECIAL.length} special`);
