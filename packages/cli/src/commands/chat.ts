import { createInterface } from 'node:readline';
import { resolve } from 'node:path';
import { resolveBackend, type BackendRequest } from '@rankwise/core';
import { chatFormat, generateTexts, type ChatMessage } from '@rankwise/core/training';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { PROCESS_OUTPUT, type CommandOutput } from './generate.js';
import { openModel } from '../generate/open-model.js';
import { parseSampling, type SamplingFlags } from '../generate/sampling-flags.js';

export interface ChatFlags extends SamplingFlags {
  system?: string;
}

export const CHAT_DEFAULT_MAX_NEW = 256;

/**
 * `rankwise chat <model>`: reads user turns line by line from stdin, renders the whole conversation with the model's
 * chat template (or the plain fallback), streams the reply and keeps it in the conversation. Ends at EOF, /exit or
 * /quit; /reset starts a new conversation.
 */
export async function chatCommand(
  modelPath: string,
  flags: ChatFlags,
  stdin: NodeJS.ReadableStream = process.stdin,
  io: CommandOutput = PROCESS_OUTPUT,
): Promise<ExitCode> {
  const sampling = parseSampling(flags, CHAT_DEFAULT_MAX_NEW);
  await resolveBackend((flags.backend ?? 'auto') as BackendRequest);
  const { model, vocab, modelDir, origin } = await openModel(resolve(modelPath), flags.adapter, sampling.seed);
  const format = await chatFormat(modelDir);
  const tty = (stdin as { isTTY?: boolean }).isTTY === true;
  io.err(
    `chat: ${origin}; ${format.kind === 'template' ? "the model's chat template" : 'plain "User:/Assistant:" format (no chat template)'}; /reset, /exit\n`,
  );
  const initial: ChatMessage[] = flags.system ? [{ role: 'system', content: flags.system }] : [];
  let messages = [...initial];
  const input = createInterface({ input: stdin, terminal: false });
  let turn = 0;
  try {
    if (tty) io.out('you> ');
    for await (const line of input) {
      const text = line.trim();
      if (text === '/exit' || text === '/quit') break;
      if (text === '/reset') {
        messages = [...initial];
        if (tty) io.out('you> ');
        continue;
      }
      if (text === '') {
        if (tty) io.out('you> ');
        continue;
      }
      if (!tty) io.out(`you> ${text}\n`);
      messages.push({ role: 'user', content: text });
      io.out('model> ');
      // each turn draws from its own seed, so a replayed conversation gives the same replies
      const [reply] = await generateTexts(model, vocab, [format.render(messages)], {
        ...sampling,
        seed: sampling.seed + turn,
        stop: [...sampling.stop, ...format.stops],
        onText: (_, piece) => io.out(piece),
      });
      io.out('\n');
      messages.push({ role: 'assistant', content: reply.text.trim() });
      turn += 1;
      if (tty) io.out('you> ');
    }
  } finally {
    input.close();
    model.dispose();
  }
  return EXIT.ok;
}
