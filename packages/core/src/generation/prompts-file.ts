import { readFile } from 'node:fs/promises';
import type { ChatMessage } from './chat-template.js';

/** One line of a prompts file: `prompt` (text) or `messages` (a conversation, rendered with the chat template); other keys are copied to the output line. */
export interface PromptLine {
  prompt?: string;
  messages?: ChatMessage[];
  extra: Record<string, unknown>;
}

const ROLES = ['system', 'user', 'assistant'];

/**
 * Reads and checks a JSONL prompts file: every non-empty line an object with a non-empty "prompt" string or a
 * "messages" list of { role: system|user|assistant, content: string }. Errors name the file, the line and the JSON pointer.
 */
export async function readPromptsFile(file: string, options: { messages?: boolean } = {}): Promise<PromptLine[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new Error(`${file}: cannot read the prompts file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  const out: PromptLine[] = [];
  const lines = text.split('\n');
  for (const [index, line] of lines.entries()) {
    if (line.trim() === '') continue;
    const where = `${file}:${index + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new Error(`${where}: not valid JSON (${(error as Error).message})`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      throw new Error(`${where}: found ${JSON.stringify(value).slice(0, 40)}, allowed: an object with "prompt" or "messages"`);
    const { prompt, messages, ...extra } = value as Record<string, unknown>;
    if ((prompt === undefined) === (messages === undefined))
      throw new Error(`${where}: give exactly one of "prompt" (a string) and "messages" (a list of {role, content})`);
    if (prompt !== undefined) {
      if (typeof prompt !== 'string' || prompt === '') throw new Error(`${where}: /prompt: found ${JSON.stringify(prompt)}, allowed: a non-empty string`);
      out.push({ prompt, extra });
      continue;
    }
    if (options.messages === false)
      throw new Error(
        `${where}: /messages: not allowed here; allowed: "prompt" lines (chat messages need the model's tokenizer config: use \`rankwise generate\`)`,
      );
    if (!Array.isArray(messages) || messages.length === 0)
      throw new Error(`${where}: /messages: found ${JSON.stringify(messages)}, allowed: a non-empty list of {role, content}`);
    for (const [m, message] of messages.entries()) {
      const { role, content } = (message ?? {}) as Record<string, unknown>;
      if (typeof role !== 'string' || !ROLES.includes(role))
        throw new Error(`${where}: /messages/${m}/role: found ${JSON.stringify(role)}, allowed: ${ROLES.join(', ')}`);
      if (typeof content !== 'string') throw new Error(`${where}: /messages/${m}/content: found ${JSON.stringify(content)}, allowed: a string`);
    }
    out.push({ messages: messages as ChatMessage[], extra });
  }
  if (out.length === 0) throw new Error(`${file}: no prompts (one JSON object per line: {"prompt": "…"} or {"messages": [...]})`);
  return out;
}
