import { IGNORE_INDEX, type TokenSequence } from '../contracts/dataset.js';
import type { ChatTemplate, ConversationMessage } from './chat-render.js';
import { maskSpans, type Encoder } from './token-spans.js';

/**
 * Language-model examples with TRL's SFTTrainer semantics (trl/trainer/sft_trainer.py `_prepare_dataset`,
 * trl/data_utils.py `pack_dataset`): ids and labels in Hugging Face's convention (label = the id where the token
 * carries loss, IGNORE_INDEX = −100 where it does not; the model shifts).
 */
export interface LmExample {
  inputIds: Int32Array;
  labels: Int32Array;
}

export type TruncationMode = 'keep_start' | 'keep_end';
export type PackingStrategy = 'bfd' | 'bfd_split' | 'wrapped';

const concat = (a: ArrayLike<number>, b: ArrayLike<number>): Int32Array => {
  const out = new Int32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
};

/** `text`: the document with the EOS token appended unless it already ends with it (TRL's add_eos); every token carries loss. */
export function textExample(encoder: Encoder, text: string, eos: string, prefix: ArrayLike<number> = []): LmExample {
  const ids = concat(prefix, encoder.encode(eos !== '' && !text.endsWith(eos) ? text + eos : text));
  return { inputIds: ids, labels: ids.slice() };
}

/**
 * `completion` ({prompt, completion}): the prompt and prompt + completion (+ EOS unless it ends with it) are tokenized
 * separately, and the first len(prompt ids) tokens are the prompt (TRL's completion_mask); with `completionOnlyLoss`
 * (TRL's default for prompt-completion data) they carry no loss. `promptIds` is the prompt alone (for generation).
 */
export function completionExample(
  encoder: Encoder,
  prompt: string,
  completion: string,
  eos: string,
  completionOnlyLoss: boolean,
  prefix: ArrayLike<number> = [],
): LmExample & { promptIds: Int32Array } {
  const promptIds = concat(prefix, encoder.encode(prompt));
  const full = concat(prefix, encoder.encode(prompt + (eos !== '' && !completion.endsWith(eos) ? completion + eos : completion)));
  const labels = full.slice();
  if (completionOnlyLoss) labels.fill(IGNORE_INDEX, 0, Math.min(promptIds.length, full.length));
  return { inputIds: full, labels, promptIds };
}

/**
 * `chat` ({messages}): the conversation rendered with the model's chat template; with `assistantOnlyLoss` only the
 * assistant's tokens (chat-render.ts, transformers' assistant_masks) carry loss, and an example with none is an error
 * (as in TRL). Without it every token does (TRL's default, assistant_only_loss=False).
 */
export function chatExample(encoder: Encoder, template: ChatTemplate, messages: readonly ConversationMessage[], assistantOnlyLoss: boolean): LmExample {
  if (!assistantOnlyLoss) {
    const ids = encoder.encode(template.render(messages, false));
    return { inputIds: ids, labels: ids.slice() };
  }
  const { text, spans } = template.renderWithSpans(messages);
  const { ids, mask } = maskSpans(encoder, text, spans);
  const labels = ids.map((id, i) => (mask[i] ? id : IGNORE_INDEX));
  if (!labels.some((l) => l !== IGNORE_INDEX))
    throw new Error('the conversation has no assistant tokens to train on (an empty assistant turn, or a template that writes none)');
  return { inputIds: ids, labels };
}

/** The prompt of a chat example's last assistant turn (everything before it, with the generation prompt) and its reference answer. */
export function chatReference(encoder: Encoder, template: ChatTemplate, messages: readonly ConversationMessage[]): { prompt: Int32Array; answer: string } {
  const last = messages.length - 1;
  if (last < 1 || messages[last].role !== 'assistant') throw new Error('a reference needs a conversation that ends with an assistant message');
  return { prompt: encoder.encode(template.render(messages.slice(0, last), true)), answer: messages[last].content };
}

/**
 * TRL's truncation: keep the first (keep_start, the default) or last (keep_end) `maxLength` tokens. Returns null when
 * nothing that carries loss is left (TRL drops those examples).
 */
export function truncateExample(example: LmExample, maxLength: number, mode: TruncationMode): { example: LmExample; truncated: boolean } | null {
  const n = example.inputIds.length;
  if (n <= maxLength) return example.labels.some((l) => l !== IGNORE_INDEX) ? { example, truncated: false } : null;
  const [from, to] = mode === 'keep_start' ? [0, maxLength] : [n - maxLength, n];
  const cut = { inputIds: example.inputIds.slice(from, to), labels: example.labels.slice(from, to) };
  return cut.labels.some((l) => l !== IGNORE_INDEX) ? { example: cut, truncated: true } : null;
}

/**
 * Packs examples into sequences of at most `maxLength` tokens (TRL's pack_dataset):
 * - `bfd` (best fit decreasing): examples longer than maxLength are cut to it (`bfd_split`: split into pieces of
 *   maxLength instead), sorted by length (longest first, stable), and each goes into the open sequence whose free
 *   space fits it most tightly (among equal ones, the one that reached that space first), else a new sequence. Each
 *   packed example's position ids restart at 0, its first label is ignored (TRL's padding-free collator), and the model
 *   attends within each example only.
 * - `wrapped`: all examples joined and cut every maxLength tokens; positions run on and attention crosses examples.
 */
export function packExamples(examples: readonly LmExample[], maxLength: number, strategy: PackingStrategy): TokenSequence[] {
  if (strategy === 'wrapped') {
    const total = examples.reduce((n, e) => n + e.inputIds.length, 0);
    const ids = new Int32Array(total);
    const labels = new Int32Array(total);
    let at = 0;
    for (const e of examples) {
      ids.set(e.inputIds, at);
      labels.set(e.labels, at);
      at += e.inputIds.length;
    }
    const out: TokenSequence[] = [];
    for (let s = 0; s < total; s += maxLength) out.push({ inputIds: ids.slice(s, s + maxLength), labels: labels.slice(s, s + maxLength) });
    return out;
  }
  const pieces: LmExample[] = [];
  for (const e of examples) {
    const n = e.inputIds.length;
    if (n === 0) continue;
    if (n <= maxLength || strategy === 'bfd')
      pieces.push(n <= maxLength ? e : { inputIds: e.inputIds.slice(0, maxLength), labels: e.labels.slice(0, maxLength) });
    else for (let s = 0; s < n; s += maxLength) pieces.push({ inputIds: e.inputIds.slice(s, s + maxLength), labels: e.labels.slice(s, s + maxLength) });
  }
  const order = pieces.map((p, i) => [p.inputIds.length, i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  const bins: Array<{ ids: number[]; length: number }> = [];
  // free space → bins with exactly that space, in the order they reached it (TRL's space_to_bin deques)
  const bySpace = new Map<number, Array<{ ids: number[]; length: number }>>();
  for (const [length, index] of order) {
    let best = Infinity;
    for (const [space, list] of bySpace) if (list.length > 0 && space >= length && space < best) best = space;
    let bin: { ids: number[]; length: number };
    if (best === Infinity) {
      bin = { ids: [], length: 0 };
      bins.push(bin);
    } else bin = bySpace.get(best)!.shift()!;
    bin.ids.push(index);
    bin.length += length;
    const space = maxLength - bin.length;
    if (space > 0) {
      if (!bySpace.has(space)) bySpace.set(space, []);
      bySpace.get(space)!.push(bin);
    }
  }
  return bins.map((bin) => {
    const inputIds = new Int32Array(bin.length);
    const labels = new Int32Array(bin.length);
    const positionIds = new Int32Array(bin.length);
    let at = 0;
    for (const index of bin.ids) {
      const p = pieces[index];
      inputIds.set(p.inputIds, at);
      labels.set(p.labels, at);
      for (let t = 0; t < p.inputIds.length; t++) positionIds[at + t] = t;
      labels[at] = IGNORE_INDEX;
      at += p.inputIds.length;
    }
    return { inputIds, labels, positionIds };
  });
}

/** Tokens that carry loss (labels other than IGNORE_INDEX). */
export function lossTokens(labels: Int32Array): number {
  let n = 0;
  for (const l of labels) if (l !== IGNORE_INDEX) n++;
  return n;
}
