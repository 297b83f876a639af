import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, expect, test } from 'vitest';
import { chatCommand, generateCommand, type ChatFlags, type GenerateFlags } from '@rankwise/cli';
import { chatFormat, PLAIN_CHAT } from '@rankwise/core/training';
import { HfTokenizer } from '@rankwise/datasets';
import { useTestBackend } from '../helpers/backend.js';
import { runCli } from '../helpers/cli.js';
import { fixture, reference } from '../hf/fixtures.js';

const greedy = JSON.parse(readFileSync(fixture('greedy-reference.json'), 'utf8')) as {
  cases: Array<{ model: string; adapter: string | null; repetitionPenalty: number; prompt: number[]; tokens: number[] }>;
};
let tokenizer: HfTokenizer;
const dir = mkdtempSync(join(tmpdir(), 'rankwise-generate-'));

beforeAll(async () => {
  await useTestBackend();
  tokenizer = await HfTokenizer.fromDirectory(fixture('llama-tiny'));
});

const FLAGS = { adapter: [], stop: [], quiet: true, seed: '0' };

/** `rankwise generate` in this process: its stdout. */
async function generate(model: string, flags: Partial<GenerateFlags>): Promise<string> {
  let out = '';
  const before = tf.memory().numTensors;
  await generateCommand(model, { ...FLAGS, ...flags }, { out: (t) => (out += t), err: () => {} });
  expect(tf.memory().numTensors).toBe(before);
  return out;
}

async function chat(model: string, input: string, flags: Partial<ChatFlags>): Promise<string> {
  let out = '';
  await chatCommand(model, { ...FLAGS, ...flags }, Readable.from([input]), { out: (t) => (out += t), err: () => {} });
  return out;
}

const replies = (transcript: string): string[] =>
  transcript
    .split('\n')
    .filter((l) => l.startsWith('model> '))
    .map((l) => l.slice('model> '.length));

test("generate --prompt streams PyTorch's greedy continuation, with --adapter too", async () => {
  for (const adapter of [null, 'adapter-qv']) {
    const c = greedy.cases.find((g) => g.model === 'llama-tiny' && g.adapter === adapter && g.repetitionPenalty === 1 && g.prompt.length === 10)!;
    const prompt = tokenizer.decode(c.prompt);
    expect(Array.from(tokenizer.encode(prompt))).toEqual(c.prompt);
    const eos = reference.eosId;
    const expected = c.tokens.includes(eos) ? c.tokens.slice(0, c.tokens.indexOf(eos)) : c.tokens;
    const out = await generate(fixture('llama-tiny'), { adapter: adapter ? [fixture(adapter)] : [], prompt, maxNewTokens: String(c.tokens.length) });
    expect(out).toBe(`${tokenizer.decode(expected)}\n`);
  }
});

test('generate --prompt-file: JSONL out in input order; batched with left padding = each prompt alone; stop strings cut', async () => {
  const prompts = ['The Congress will', 'union', 'the people expect wisdom and'];
  const file = join(dir, 'prompts.jsonl');
  writeFileSync(file, prompts.map((p, i) => JSON.stringify({ id: i, prompt: p })).join('\n'));
  const lines = (await generate(fixture('qwen2-tiny'), { promptFile: file, batchSize: '2', maxNewTokens: '12' }))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { id: number; completion: string; tokens: number });
  expect(lines.map((l) => l.id)).toEqual([0, 1, 2]);
  for (const [i, p] of prompts.entries()) expect(`${lines[i].completion}\n`).toBe(await generate(fixture('qwen2-tiny'), { prompt: p, maxNewTokens: '12' }));
  // a stop string: the completion ends before it
  const full = lines[0].completion;
  const cut = full.slice(3, 6);
  expect(cut.length).toBe(3);
  expect(await generate(fixture('qwen2-tiny'), { prompt: prompts[0], maxNewTokens: '12', stop: [cut] })).toBe(`${full.slice(0, full.indexOf(cut))}\n`);
  writeFileSync(file, '{"prompt": "ok"}\n{"prompt": 3}\n');
  await expect(generate(fixture('qwen2-tiny'), { promptFile: file })).rejects.toThrow(`${file}:2: /prompt: found 3, allowed: a non-empty string`);
});

test('chat keeps the conversation: the second reply continues the whole rendered conversation (plain format, and a Jinja chat template)', async () => {
  const withTemplate = join(dir, 'llama-chat');
  cpSync(fixture('llama-tiny'), withTemplate, { recursive: true });
  const config = JSON.parse(readFileSync(join(withTemplate, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
  config.chat_template = '{% for m in messages %}<{{ m.role }}>{{ m.content }}{{ eos_token }}{% endfor %}{% if add_generation_prompt %}<assistant>{% endif %}';
  writeFileSync(join(withTemplate, 'tokenizer_config.json'), JSON.stringify(config));
  const turns = ['Mr. Speaker, the state of the union', 'and the Congress?'];
  for (const [model, format] of [
    [fixture('llama-tiny'), PLAIN_CHAT],
    [withTemplate, await chatFormat(withTemplate)],
  ] as const) {
    const said = replies(await chat(model, `${turns.join('\n')}\n`, { maxNewTokens: '6' }));
    expect(said).toHaveLength(2);
    const prompt = format.render([
      { role: 'user', content: turns[0] },
      { role: 'assistant', content: said[0].trim() },
      { role: 'user', content: turns[1] },
    ]);
    if (format.kind === 'template')
      expect(prompt).toBe(`<user>${turns[0]}<|endoftext|><assistant>${said[0].trim()}<|endoftext|><user>${turns[1]}<|endoftext|><assistant>`);
    else expect(prompt).toBe(`User: ${turns[0]}\nAssistant: ${said[0].trim()}\nUser: ${turns[1]}\nAssistant:`);
    expect(await generate(model, { prompt, maxNewTokens: '6', stop: format.stops })).toBe(`${said[1]}\n`);
  }
});

test('the CLI: chat from piped stdin, flags checked before loading (exit 2)', () => {
  const run = runCli(['chat', fixture('llama-tiny'), '--max-new-tokens', '4'], {}, 'hello\n/reset\nhello\n');
  expect(run.status).toBe(0);
  const said = replies(run.stdout);
  expect(said).toHaveLength(2);
  expect(said[1]).toBe(said[0]); // /reset: the same first turn again, the same (greedy) reply
  expect(run.stdout).toContain('you> hello\nmodel> ');
  const bad = runCli(['generate', fixture('llama-tiny'), '--prompt', 'x', '--top-p', '1.5']);
  expect(bad.status).toBe(2);
  expect(bad.stderr).toContain('--top-p: found "1.5", allowed: a number in (0, 1]');
});

test('the generate stage writes generations.jsonl into the run folder (the completions `rankwise generate` gives)', async () => {
  const prompts = join(dir, 'stage-prompts.jsonl');
  writeFileSync(prompts, `${JSON.stringify({ prompt: 'The Congress will' })}\n${JSON.stringify({ prompt: 'union', tag: 'b' })}\n`);
  const pipeline = join(dir, 'gen.json');
  writeFileSync(
    pipeline,
    JSON.stringify({
      name: 'gen',
      seed: 1,
      stages: [
        { stage: 'load', huggingface: fixture('llama-tiny') },
        { stage: 'generate', prompts: 'stage-prompts.jsonl', maxNewTokens: 10 },
      ],
    }),
  );
  const run = runCli(['run', pipeline, '--out', join(dir, 'runs'), '--quiet']);
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  const written = readFileSync(join(dir, 'runs', 'gen', 'latest', 'generations.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  expect(written[1]).toMatchObject({ tag: 'b', prompt: 'union', finish: 'length', tokens: 10 });
  const direct = (await generate(fixture('llama-tiny'), { promptFile: prompts, maxNewTokens: '10' }))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  expect(direct).toEqual(written);
  await expect(generate(join(dir, 'runs', 'gen'), { promptFile: prompts })).rejects.toThrow('a run folder without merged/');
});
