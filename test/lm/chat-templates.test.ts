import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { HfTokenizer } from '@rankwise/datasets';
import {
  ChatTemplate,
  chatExample,
  chatReference,
  completionExample,
  packExamples,
  textExample,
  truncateExample,
  type ConversationMessage,
  type LmExample,
} from '@rankwise/core/internal';

/**
 * rankwise's chat-template renderings and loss masks against scripts/chat-reference/reference.py (Python jinja2 with
 * transformers' environment, a byte-level BPE with offsets, TRL's masking rules), on the real templates of Qwen2.5,
 * SmolLM2, Llama 3.1, Mistral v0.1 / v0.3 and Gemma 2, and a ChatML template with {% generation %} blocks.
 */
const dir = 'test/fixtures/chat-templates';
const read = <T>(name: string): T => JSON.parse(readFileSync(`${dir}/${name}`, 'utf8')) as T;
interface Family {
  name: string;
  template: string;
  bos_token: string;
  eos_token: string;
  system: boolean;
}
interface Conversation {
  name: string;
  system: boolean;
  messages: ConversationMessage[];
}
interface Example {
  inputIds: number[];
  labels: number[];
  promptIds?: number[];
  positionIds?: number[];
}
interface Reference {
  renders: Record<string, Record<string, { full: string; prompt: string }>>;
  masks: Record<string, Record<string, Example>>;
  completions: Array<Example & { prompt: string; completion: string }>;
  texts: Array<Example & { text: string }>;
  truncation: Record<string, Array<Example | null>>;
  packing: Record<string, Example[]>;
}
const { families } = read<{ families: Family[] }>('templates.json');
const { conversations } = read<{ conversations: Conversation[] }>('conversations.json');
const reference = read<Reference>('reference.json');
const tokenizer = HfTokenizer.fromJSON({ type: 'huggingface-tokenizer', tokenizer: read<object>('tokenizer.json'), config: {} });
const template = (f: Family) => new ChatTemplate(f.template, { bos_token: f.bos_token, eos_token: f.eos_token });
const plain = (e: { inputIds: ArrayLike<number>; labels: ArrayLike<number>; positionIds?: ArrayLike<number> }): Example => ({
  inputIds: Array.from(e.inputIds),
  labels: Array.from(e.labels),
  ...(e.positionIds ? { positionIds: Array.from(e.positionIds) } : {}),
});
const cases = families.flatMap((f) => conversations.filter((c) => f.system || !c.system).map((c) => [f.name, c.name, f, c] as const));

describe("chat templates render as Python jinja2 renders them (transformers' environment)", () => {
  test('every family and conversation has a reference', () => {
    expect(cases.length).toBe(38); // 5 families × 6 conversations + Gemma 2 and Mistral v0.1 × the 4 without a system message
    for (const [family, conversation] of cases) expect(reference.renders[family][conversation]).toBeDefined();
  });

  test.each(cases)('%s / %s', (family, conversation, f, c) => {
    const t = template(f);
    const want = reference.renders[family][conversation];
    expect(t.render(c.messages, false)).toBe(want.full);
    expect(t.render(c.messages.slice(0, -1), true)).toBe(want.prompt);
  });

  test("templates that refuse a conversation throw the template's own message", () => {
    const gemma = template(families.find((f) => f.name === 'gemma2')!);
    expect(() =>
      gemma.render(
        [
          { role: 'system', content: 'x' },
          { role: 'user', content: 'y' },
        ],
        true,
      ),
    ).toThrow(/System role not supported/);
  });
});

describe("loss masks equal TRL's rules (reference.py)", () => {
  test.each(cases)('assistant-only labels: %s / %s', (family, conversation, f, c) => {
    const t = template(f);
    const want = reference.masks[family][conversation];
    expect(plain(chatExample(tokenizer, t, c.messages, true))).toEqual({ inputIds: want.inputIds, labels: want.labels });
    expect(Array.from(chatReference(tokenizer, t, c.messages).prompt)).toEqual(want.promptIds);
  });

  test('without assistantOnlyLoss every token carries loss', () => {
    const f = families[0];
    const e = chatExample(tokenizer, template(f), conversations[1].messages, false);
    expect(Array.from(e.labels)).toEqual(Array.from(e.inputIds));
  });

  test('completion: the prompt is masked, the completion and EOS carry loss', () => {
    for (const want of reference.completions) {
      const e = completionExample(tokenizer, want.prompt, want.completion, '<|im_end|>', true);
      expect(plain(e)).toEqual({ inputIds: want.inputIds, labels: want.labels });
      expect(Array.from(e.promptIds)).toEqual(want.promptIds);
      expect(Array.from(completionExample(tokenizer, want.prompt, want.completion, '<|im_end|>', false).labels)).toEqual(want.inputIds);
    }
  });

  test('text: EOS appended unless present, every token carries loss', () => {
    for (const want of reference.texts)
      expect(plain(textExample(tokenizer, want.text, '<|im_end|>'))).toEqual({ inputIds: want.inputIds, labels: want.labels });
    expect(Array.from(textExample(tokenizer, 'ab<|im_end|>', '<|im_end|>').inputIds)).toEqual(Array.from(tokenizer.encode('ab<|im_end|>')));
  });

  const smol = families.find((f) => f.name === 'smollm2')!;
  const chatExamples = (): LmExample[] => conversations.map((c) => chatExample(tokenizer, template(smol), c.messages, true));

  test.each(['keep_start/24', 'keep_start/40', 'keep_end/24', 'keep_end/40'])('truncation %s (examples left without loss tokens are dropped)', (key) => {
    const [mode, length] = key.split('/') as ['keep_start' | 'keep_end', string];
    const got = chatExamples().map((e) => truncateExample(e, Number(length), mode));
    expect(got.map((g) => (g ? plain(g.example) : null))).toEqual(reference.truncation[key]);
    expect(got.some((g) => g === null)).toBe(mode === 'keep_start'); // a prompt alone filling the window
  });

  test.each(['bfd/48', 'bfd_split/48'])('packing %s of chat examples (position ids restart, first label ignored)', (key) => {
    const [strategy, length] = key.split('/') as ['bfd' | 'bfd_split', string];
    expect(packExamples(chatExamples(), Number(length), strategy).map(plain)).toEqual(reference.packing[key]);
  });

  test.each(['bfd/20', 'bfd_split/20', 'wrapped/20'])('packing %s of text examples', (key) => {
    const [strategy, length] = key.split('/') as ['bfd' | 'bfd_split' | 'wrapped', string];
    const texts = reference.texts.map((t) => textExample(tokenizer, t.text, '<|im_end|>'));
    expect(packExamples(texts, Number(length), strategy).map(plain)).toEqual(reference.packing[key]);
  });
});
