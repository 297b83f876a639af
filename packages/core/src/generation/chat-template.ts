import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Template } from '@huggingface/jinja';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** How a conversation becomes the prompt text: the model's Jinja chat template, or rankwise's plain fallback. */
export interface ChatFormat {
  /** 'template' (tokenizer_config.json's chat_template) or 'plain' (no template: PLAIN_CHAT). */
  kind: 'template' | 'plain';
  /** The prompt for the next assistant turn. */
  render(messages: readonly ChatMessage[]): string;
  /** Strings that end an assistant turn besides the model's EOS token (the plain format's next "User:" line). */
  stops: string[];
}

/**
 * The fallback for models without a chat template (rankwise's character models, base models): one line per turn,
 * "User: …" and "Assistant: …", a system message as a first paragraph, and the prompt ends with "Assistant:". The
 * reply ends at the model's EOS or at a new "User:" line.
 */
export const PLAIN_CHAT: ChatFormat = {
  kind: 'plain',
  render(messages) {
    const lines = messages.map((m) => (m.role === 'system' ? `${m.content}\n` : `${m.role === 'user' ? 'User' : 'Assistant'}: ${m.content}`));
    return `${lines.join('\n')}\nAssistant:`;
  },
  stops: ['\nUser:'],
};

/** A special token of tokenizer_config.json: a string or an AddedToken object ({ content }). */
function tokenText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null && typeof (value as { content?: unknown }).content === 'string')
    return (value as { content: string }).content;
  return '';
}

/**
 * The chat template of a model directory's tokenizer_config.json (transformers' apply_chat_template with
 * add_generation_prompt: messages, bos_token, eos_token, add_generation_prompt), rendered with @huggingface/jinja;
 * PLAIN_CHAT when the directory has no template (or no tokenizer_config.json). A named template list
 * ([{ name, template }]) uses "default".
 */
export async function chatFormat(modelDir: string | null): Promise<ChatFormat> {
  if (modelDir === null) return PLAIN_CHAT;
  const file = join(modelDir, 'tokenizer_config.json');
  let config: Record<string, unknown>;
  try {
    config = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return PLAIN_CHAT;
    throw new Error(`${file}: ${(error as Error).message}`);
  }
  let source = config.chat_template;
  if (Array.isArray(source)) source = (source as Array<{ name?: unknown; template?: unknown }>).find((t) => t.name === 'default')?.template;
  if (source === undefined || source === null) return PLAIN_CHAT;
  if (typeof source !== 'string')
    throw new Error(`${file}: /chat_template: found ${JSON.stringify(source).slice(0, 60)}, allowed: a Jinja template string (or a list with a "default" one)`);
  let template: Template;
  try {
    template = new Template(source);
  } catch (error) {
    throw new Error(`${file}: /chat_template: not a template @huggingface/jinja can parse (${(error as Error).message})`);
  }
  const bos = tokenText(config.bos_token);
  const eos = tokenText(config.eos_token);
  return {
    kind: 'template',
    render: (messages) => template.render({ messages: messages.map((m) => ({ ...m })), add_generation_prompt: true, bos_token: bos, eos_token: eos }),
    stops: [],
  };
}
