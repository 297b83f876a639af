import { Template } from '@huggingface/jinja';

/** One message of a conversation (`{role, content}`, as TRL's conversational datasets hold them). */
export interface ConversationMessage {
  role: string;
  content: string;
}

/** A rendered conversation and the character spans [start, end) of what the assistant says (its loss tokens). */
export interface RenderedConversation {
  text: string;
  spans: Array<[number, number]>;
}

/** A template problem: the message names the template's source; callers add the file and record. */
export class ChatTemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ChatTemplateError';
  }
}

/** Markers the `{% generation %}` rewrite writes around assistant output (control characters no template writes). */
const OPEN = '\u0001';
const CLOSE = '\u0002';
const GENERATION_TAG = /\{%(-?)\s*(end)?generation\s*(-?)%\}/g;

/** A special token of tokenizer_config.json: a string, or an AddedToken object ({ content }); '' when absent. */
export function specialTokenText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null && typeof (value as { content?: unknown }).content === 'string')
    return (value as { content: string }).content;
  return '';
}

/** The chat template string of a tokenizer_config.json object (a named list uses "default"), or null. */
export function chatTemplateSource(config: Record<string, unknown>): string | null {
  let source = config.chat_template;
  if (Array.isArray(source)) source = (source as Array<{ name?: unknown; template?: unknown }>).find((t) => t.name === 'default')?.template;
  if (source === undefined || source === null) return null;
  if (typeof source !== 'string')
    throw new ChatTemplateError(
      `/chat_template: found ${JSON.stringify(source).slice(0, 60)}, allowed: a Jinja template string (or a list with a "default" one)`,
    );
  return source;
}

/**
 * A model's chat template, rendered as transformers' `apply_chat_template` renders it: `messages`,
 * `add_generation_prompt`, and the tokenizer's special tokens (`bos_token`, `eos_token`, `unk_token`, `pad_token`)
 * as variables, with @huggingface/jinja (transformers.js's Jinja, which follows transformers' `trim_blocks` and
 * `lstrip_blocks` environment). `extra` adds variables (e.g. `date_string`).
 *
 * Assistant spans (`renderWithSpans`) follow transformers' `return_assistant_tokens_mask`: a template with
 * `{% generation %}` … `{% endgeneration %}` blocks marks exactly what those blocks write. A template without them
 * (most shipped templates: TRL swaps in hand-edited training templates for a list of families instead) is read
 * prefix by prefix: assistant message i is what the template adds between rendering messages[0..i) with the
 * generation prompt and rendering messages[0..i]: the reply and its end-of-turn text, never the generation prompt
 * (which the model reads, not writes). Templates that do not render conversations prefix by prefix are refused.
 */
export class ChatTemplate {
  private readonly template: Template;
  private readonly marked: Template | null;
  private readonly variables: Record<string, unknown>;

  constructor(
    readonly source: string,
    specialTokens: { bos_token?: string; eos_token?: string; unk_token?: string; pad_token?: string },
    extra: Record<string, unknown> = {},
  ) {
    try {
      this.template = new Template(source);
    } catch (error) {
      throw new ChatTemplateError(`/chat_template: not a template @huggingface/jinja can parse (${(error as Error).message})`);
    }
    GENERATION_TAG.lastIndex = 0;
    const hasMarkers = GENERATION_TAG.test(source);
    // {% generation %} → a block that writes a marker: the block tags keep the original's whitespace control
    // (`-` and trim_blocks / lstrip_blocks act on block tags, not on {{ }} output)
    this.marked = hasMarkers
      ? new Template(
          source.replace(
            GENERATION_TAG,
            (_, left: string, end: string | undefined, right: string) => `{%${left} if true %}{{ '${end ? CLOSE : OPEN}' }}{% endif ${right}%}`,
          ),
        )
      : null;
    this.variables = { ...extra, ...Object.fromEntries(Object.entries(specialTokens).filter(([, v]) => v !== undefined && v !== '')) };
  }

  /** A template from a tokenizer_config.json object, or null when it has none. */
  static fromTokenizerConfig(config: Record<string, unknown>, extra: Record<string, unknown> = {}): ChatTemplate | null {
    const source = chatTemplateSource(config);
    if (source === null) return null;
    return new ChatTemplate(
      source,
      {
        bos_token: specialTokenText(config.bos_token),
        eos_token: specialTokenText(config.eos_token),
        unk_token: specialTokenText(config.unk_token),
        pad_token: specialTokenText(config.pad_token),
      },
      extra,
    );
  }

  get hasGenerationMarkers(): boolean {
    return this.marked !== null;
  }

  /** The conversation as text; with `addGenerationPrompt` it ends where the assistant's next reply starts. */
  render(messages: readonly ConversationMessage[], addGenerationPrompt: boolean): string {
    return this.run(this.template, messages, addGenerationPrompt);
  }

  /** The whole conversation (no generation prompt) and the character spans of the assistant's output. */
  renderWithSpans(messages: readonly ConversationMessage[]): RenderedConversation {
    for (const [i, m] of messages.entries()) {
      if (m.content.includes(OPEN) || m.content.includes(CLOSE))
        throw new ChatTemplateError(`/messages/${i}/content: holds the control character U+0001 or U+0002, which rankwise uses to mark assistant output`);
    }
    if (this.marked) return markedSpans(this.run(this.marked, messages, false));
    const text = this.render(messages, false);
    const spans: Array<[number, number]> = [];
    for (const [i, m] of messages.entries()) {
      if (m.role !== 'assistant') continue;
      const before = this.render(messages.slice(0, i), true);
      const through = this.render(messages.slice(0, i + 1), false);
      if (!text.startsWith(before) || !text.startsWith(through) || through.length < before.length) {
        throw new ChatTemplateError(
          `/messages/${i}: the chat template does not render this conversation prefix by prefix (the text up to this assistant message differs from the start of the whole conversation), so its assistant tokens cannot be found; add {% generation %} … {% endgeneration %} around the assistant output in the template, or set "assistantOnlyLoss": false`,
        );
      }
      if (through.length > before.length) spans.push([before.length, through.length]);
    }
    return { text, spans };
  }

  private run(template: Template, messages: readonly ConversationMessage[], addGenerationPrompt: boolean): string {
    try {
      return template.render({ ...this.variables, messages: messages.map((m) => ({ ...m })), add_generation_prompt: addGenerationPrompt });
    } catch (error) {
      throw new ChatTemplateError(`the chat template failed to render: ${(error as Error).message}`);
    }
  }
}

/** Text without the markers, and the spans the marker pairs enclosed (nested or unbalanced markers are an error). */
function markedSpans(raw: string): RenderedConversation {
  let text = '';
  const spans: Array<[number, number]> = [];
  let open: number | null = null;
  for (const ch of raw) {
    if (ch === OPEN) {
      if (open !== null) throw new ChatTemplateError('/chat_template: nested {% generation %} blocks');
      open = text.length;
    } else if (ch === CLOSE) {
      if (open === null) throw new ChatTemplateError('/chat_template: {% endgeneration %} without {% generation %}');
      if (text.length > open) spans.push([open, text.length]);
      open = null;
    } else text += ch;
  }
  return { text, spans };
}
