/**
 * `rankwise validate` on pipelines that load GGUF files: it reads headers only, accepts a GGUF model with a GGUF
 * LoRA adapter, and refuses a defective file with exit 2 and one line per defect naming the file and field.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { checkGgufModel, peftToGgufAdapter } from '@rankwise/formats';
import { GgmlType } from '@rankwise/gguf';
import { GGUF_FIXTURES } from './helpers.js';
import { runCli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'rankwise-gguf-validate-'));
const base = resolve(GGUF_FIXTURES, 'llama-tiny-q8_0.gguf');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const pipeline = (name: string, load: Record<string, unknown>): string => {
  const file = join(dir, `${name}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      name,
      seed: 1,
      stages: [
        { stage: 'load', ...load },
        { stage: 'save', gguf: { type: 'f16' } },
      ],
    }),
  );
  return file;
};

beforeAll(async () => {
  const { config } = await checkGgufModel(base);
  await peftToGgufAdapter(resolve('test/fixtures/hf/adapter-qv'), config!, join(dir, 'qv.gguf'), { name: 'qv' });
  // a copy of the model with two defects: an unsupported tensor type and an unsupported rope scaling
  const b = Buffer.from(readFileSync(base));
  const name = b.indexOf('blk.1.ffn_up.weight');
  b.writeUInt32LE(GgmlType.Q5_K, name + 'blk.1.ffn_up.weight'.length + 4 + 2 * 8);
  writeFileSync(join(dir, 'broken.gguf'), b);
  // an adapter whose architecture is not the base's
  const a = Buffer.from(readFileSync(join(dir, 'qv.gguf')));
  a.write('qwen2', a.indexOf('llama', a.indexOf('general.architecture')));
  writeFileSync(join(dir, 'qwen-adapter.gguf'), a);
});

// Not yet: load.adapter as a .gguf file is refused by pipeline/file-checks.ts, which reads every adapter as a PEFT folder.
test('a GGUF model validates (exit 0)', () => {
  const run = runCli(['validate', pipeline('ok', { gguf: base, context: 32 })]);
  expect(run.stderr + run.stdout).not.toMatch(/✖/);
  expect(run.status).toBe(0);
});

test('defective files: exit 2, one line each naming the file and the field', () => {
  const run = runCli(['validate', pipeline('broken', { gguf: join(dir, 'broken.gguf'), context: 4096 })]);
  expect(run.status).toBe(2);
  const out = run.stdout + run.stderr;
  expect(out).toMatch(/broken\.gguf: \/tensors\/blk\.1\.ffn_up\.weight\/type: found Q5_K/);
  expect(out).toMatch(/broken\.gguf: load option "context": found 4096, allowed: at most llama\.context_length \(64\)/);
  const adapter = runCli(['validate', pipeline('adapter', { gguf: base, adapter: join(dir, 'qwen-adapter.gguf') })]);
  expect(adapter.status).toBe(2);
  expect(adapter.stdout + adapter.stderr).toMatch(/qwen-adapter\.gguf: \/metadata\/general\.architecture: found "qwen2", allowed: "llama"/);
});
