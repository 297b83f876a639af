import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { runCli } from '../helpers/cli.js';

// A tokenizer.json that parses but that tokenizers.js cannot build is found at validation (exit 2, one line naming the
// file), not when the run loads the model.
test('an HF model directory whose tokenizer.json cannot be built: exit 2 at validation, naming the file', () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'rankwise-badtok-')), 'model');
  cpSync('test/fixtures/hf/llama-tiny', dir, { recursive: true });
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify({ version: '1.0', model: { type: 'BPE', vocab: { a: 0 }, merges: [] } }));
  const bad = runCli(['validate', 'pipelines/llama-sotu-lora.json', '--set', `stages.0.huggingface=${dir}`]);
  expect(bad.status).toBe(2);
  expect(bad.stderr.trim().split('\n')).toEqual([
    expect.stringMatching(
      new RegExp(
        `^✖ pipelines/llama-sotu-lora.json: /stages/0/huggingface: ${dir.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}/tokenizer.json: tokenizers.js cannot build this tokenizer \\(`,
      ),
    ),
  ]);
  const good = runCli(['validate', 'pipelines/llama-sotu-lora.json']);
  expect(good.status, good.stderr).toBe(0);
}, 60_000);
