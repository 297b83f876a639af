import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, expect, test } from 'vitest';
import { generateCommand, type GenerateFlags } from '@rankwise/cli';
import { HfTokenizer } from '@rankwise/datasets';
import { useTestBackend } from '../helpers/backend.js';
import { fixture, reference } from '../hf/fixtures.js';

const greedy = JSON.parse(readFileSync(fixture('greedy-reference.json'), 'utf8')) as {
  cases: Array<{ model: string; adapter: string | null; repetitionPenalty: number; prompt: number[]; tokens: number[] }>;
};
let tokenizer: HfTokenizer;
const dir = mkdtempSync(join(tmpdir(), 'rankwise-generate-adapters-'));

beforeAll(async () => {
  await useTestBackend();
  tokenizer = await HfTokenizer.fromDirectory(fixture('llama-tiny'));
});

async function generate(flags: Partial<GenerateFlags>): Promise<string> {
  let out = '';
  const before = tf.memory().numTensors;
  await generateCommand(fixture('llama-tiny'), { adapter: [], stop: [], quiet: true, seed: '0', ...flags }, { out: (t) => (out += t), err: () => {} });
  expect(tf.memory().numTensors).toBe(before);
  return out;
}

/** PyTorch's greedy continuation of the 10-token prompt (scripts/hf-reference), cut at EOS. */
function pytorch(adapter: string | null): { prompt: string; text: string; length: number } {
  const c = greedy.cases.find((g) => g.model === 'llama-tiny' && g.adapter === adapter && g.repetitionPenalty === 1 && g.prompt.length === 10)!;
  const cut = c.tokens.includes(reference.eosId) ? c.tokens.slice(0, c.tokens.indexOf(reference.eosId)) : c.tokens;
  return { prompt: tokenizer.decode(c.prompt), text: tokenizer.decode(cut), length: c.tokens.length };
}

test('generate with several --adapter name=dir on one base: each prompts-file line picks its adapter (or null: the base)', async () => {
  const qv = pytorch('adapter-qv');
  const base = pytorch(null);
  expect(base.prompt).toBe(qv.prompt);
  const file = join(dir, 'prompts.jsonl');
  const requests = [{ id: 0, adapter: 'qv' }, { id: 1, adapter: null }, { id: 2, adapter: 'trained' }, { id: 3 }, { id: 4, adapter: 'qv' }];
  writeFileSync(file, requests.map((r) => JSON.stringify({ ...r, prompt: qv.prompt })).join('\n'));
  const adapters = [`qv=${fixture('adapter-qv')}`, `trained=${fixture('rankwise-trained')}`];
  const maxNewTokens = String(qv.length);
  const lines = (await generate({ adapter: adapters, promptFile: file, batchSize: '2', maxNewTokens }))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { id: number; adapter?: string | null; completion: string });
  expect(lines.map((l) => [l.id, l.adapter])).toEqual(requests.map((r) => [r.id, r.adapter]));
  // Against PyTorch's greedy tokens: the qv adapter, and the base with the adapters switched off.
  expect([lines[0].completion, lines[4].completion, lines[3].completion]).toEqual([qv.text, qv.text, qv.text]); // no "adapter": the first (active)
  expect(lines[1].completion).toBe(base.text);
  // The other adapter: what a model carrying only it generates.
  const trained = await generate({ adapter: [fixture('rankwise-trained')], prompt: qv.prompt, maxNewTokens });
  expect(`${lines[2].completion}\n`).toBe(trained);
  expect(lines[2].completion).not.toBe(qv.text);
});

test('a prompts-file line naming an adapter that was not loaded is refused, naming the line; nothing leaks', async () => {
  const before = tf.memory().numTensors;
  const file = join(dir, 'bad.jsonl');
  writeFileSync(file, `${JSON.stringify({ prompt: 'union' })}\n${JSON.stringify({ prompt: 'union', adapter: 'sql' })}\n`);
  await expect(generate({ adapter: [`qv=${fixture('adapter-qv')}`], promptFile: file, maxNewTokens: '2' })).rejects.toThrow(
    `${file}: line 2: /adapter: found "sql"; allowed: "qv", null (the base model) (load adapters with --adapter name=dir)`,
  );
  await expect(generate({ adapter: [`qv=${fixture('adapter-qv')}`, `qv=${fixture('rankwise-trained')}`], prompt: 'union', maxNewTokens: '2' })).rejects.toThrow(
    '--adapter: the name "qv" is given twice',
  );
  expect(tf.memory().numTensors).toBe(before);
});
