import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, expect, test } from 'vitest';
import { createRankwise, loadAdapter, loadHuggingFaceModel, type Pipeline } from '@rankwise/core';
import { SilentProgress } from '@rankwise/core/runs';
import { ChatTemplate, chatExample } from '@rankwise/core/internal';
import { createDatasetSource, HfTokenizer } from '@rankwise/datasets';
import pattern from '@rankwise/placement-pattern';
import { useTestBackend } from '../helpers/backend.js';
import { fixture } from '../hf/fixtures.js';

beforeAll(async () => {
  await useTestBackend();
});

const rankwise = () => createRankwise({ progress: new SilentProgress(), datasets: createDatasetSource(), plugins: [pattern] });
/** A template whose assistant turns end with the tokenizer's EOS (llama-tiny's only special token), so generation stops there. */
const TEMPLATE =
  "{% for m in messages %}{{ m['role'] + ':' + m['content'] }}{% if m['role'] == 'assistant' %}{{ eos_token }}{% endif %}{{ '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ 'assistant:' }}{% endif %}";
/** Answers start with a space: the generation prompt ends at "assistant:" and " blue" is one token (no prompt/answer token mismatch). */
const QUESTIONS: Array<[string, string]> = [
  ['Name a colour.', ' blue'],
  ['Name an animal.', ' a cat'],
  ['Say hi.', ' hello'],
];
const conversation = (i: number) => {
  const [q, a] = QUESTIONS[i % QUESTIONS.length];
  return { messages: [...(i % 4 === 0 ? [{ role: 'system', content: 'Be brief.' }] : []), { role: 'user', content: q }, { role: 'assistant', content: a }] };
};

test('chat data end to end: assistant-only LoRA training on llama-tiny, loss over assistant tokens as computed independently, exact match 0 → 1', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'rankwise-chat-'));
  const jsonl = (rows: object[]) => `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`;
  await writeFile(join(dir, 'train.jsonl'), jsonl(Array.from({ length: 24 }, (_, i) => conversation(i))));
  await writeFile(join(dir, 'test.jsonl'), jsonl(Array.from({ length: 6 }, (_, i) => conversation(i + 1))));
  const data = (file: string) => ({ dataset: 'chat' as const, path: join(dir, file), chatTemplate: TEMPLATE });
  const pipeline: Pipeline = {
    name: 'chat-tiny',
    seed: 2,
    stages: [
      { stage: 'load', huggingface: fixture('llama-tiny'), context: 48 },
      { stage: 'evaluate', label: 'before', data: data('test.jsonl') },
      { stage: 'freeze' },
      { stage: 'inject', r: 8, alpha: 16, placement: { plugin: '@rankwise/placement-pattern', options: { target: 'all-linear' } } },
      { stage: 'train', data: data('train.jsonl'), steps: 100, batchSize: 8, optimizer: { name: 'adamw', lr: 0.01 } },
      { stage: 'evaluate', label: 'after', data: data('test.jsonl') },
      { stage: 'save', adapter: true },
    ],
  };
  const tensors = tf.memory().numTensors;
  const { runDir, summary } = await rankwise().run(pipeline, { out: join(dir, 'runs') });
  expect(tf.memory().numTensors).toBe(tensors);
  const [before, after] = summary.evaluations.map((e) => e.metrics);
  expect(before.exactMatch).toBe(0);
  expect(after.exactMatch).toBe(1);
  expect(after.exactMatchNormalized).toBe(1);
  expect(after.loss).toBeLessThan(before.loss / 4);

  // the summary's data record and the evaluation loss, recomputed here from the template, the tokenizer and the model
  const tokenizer = await HfTokenizer.fromDirectory(fixture('llama-tiny'));
  const template = new ChatTemplate(TEMPLATE, { eos_token: '<|endoftext|>' });
  const examples = Array.from({ length: 6 }, (_, i) => chatExample(tokenizer, template, conversation(i + 1).messages, true));
  const training = Array.from({ length: 24 }, (_, i) => chatExample(tokenizer, template, conversation(i).messages, true));
  const carry = (e: { labels: Int32Array }) => e.labels.filter((l) => l !== -100).length;
  expect(summary.training[0].data).toMatchObject({
    examples: 24,
    tokens: training.reduce((n, e) => n + e.inputIds.length, 0),
    lossTokens: training.reduce((n, e) => n + carry(e), 0),
    truncated: 0,
  });
  const { model } = await loadHuggingFaceModel(fixture('llama-tiny'), { context: 48 });
  await loadAdapter(model, join(runDir, 'adapter'), 0);
  model.eval();
  let nll = 0;
  let count = 0;
  for (const e of examples) {
    const logProbs = tf.tidy(() => tf.logSoftmax(model.forward(tf.tensor2d(e.inputIds, [1, e.inputIds.length], 'int32'))));
    const values = await logProbs.data();
    const v = logProbs.shape[2] as number;
    logProbs.dispose();
    for (let t = 1; t < e.inputIds.length; t++) {
      if (e.labels[t] === -100) continue;
      nll -= values[(t - 1) * v + e.labels[t]]; // the logits at t − 1 predict token t
      count++;
    }
  }
  expect(after.lossTokens).toBe(count);
  expect(Math.abs(after.loss - nll / count)).toBeLessThan(1e-4);
  model.dispose();
});

test('text data: the same documents packed (bfd, position ids, attention within each) and padded one per row give the same loss', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'rankwise-text-'));
  const docs = Array.from({ length: 20 }, (_, i) => ({ text: `Document ${i}: ${'the quick brown fox '.slice(0, 4 + ((i * 7) % 16))}jumps.` }));
  await writeFile(join(dir, 'docs.jsonl'), `${docs.map((d) => JSON.stringify(d)).join('\n')}\n`);
  const evaluate = (label: string, packing: false | 'bfd') => ({
    stage: 'evaluate' as const,
    label,
    data: { dataset: 'text' as const, path: join(dir, 'docs.jsonl'), packing },
    batchSize: 256,
  });
  const { summary } = await rankwise().run(
    {
      name: 'text-tiny',
      seed: 1,
      stages: [{ stage: 'load', huggingface: fixture('llama-tiny'), context: 48 }, evaluate('padded', false), evaluate('packed', 'bfd')],
    },
    { out: join(dir, 'runs') },
  );
  const [padded, packed] = summary.evaluations.map((e) => e.metrics);
  expect(packed.lossTokens).toBe(padded.lossTokens);
  expect(packed.loss).toBeGreaterThan(3); // a random model: about ln(384)
  expect(Math.abs(packed.loss - padded.loss)).toBeLessThan(1e-5);
});
