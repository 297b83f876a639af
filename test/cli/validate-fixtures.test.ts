import { readdirSync } from 'node:fs';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { main } from '@rankwise/cli';
import { runCli } from '../helpers/cli.js';

const dir = 'test/fixtures/broken';

/** Each broken pipeline and the one error it must produce (file, JSON pointer, what was found / allowed). */
const expected: Record<string, string[]> = {
  'wrong-type-seed.json': ['/seed: found "seven", allowed: an integer'],
  'unknown-stage.json': [
    '/stages/1/stage: found "trian" (did you mean "train"?), allowed: "load", "freeze", "unfreeze", "inject", "train", "evaluate", "merge", "save", "generate"',
  ],
  'unknown-plugin.json': [
    `/stages/2/placement/plugin: plugin "@rankwise/placement-nope" is not installed: looked in node_modules from ${process.cwd()}/test/fixtures/broken upwards, then ${process.cwd()}/packages/cli/src upwards; `,
    'install it next to the pipeline: npm install @rankwise/placement-nope (installed plugins: @rankwise/placement-attention, @rankwise/placement-pattern)',
  ],
  'bad-plugin-options.json': ['/stages/2/placement/options/target: found 5, allowed: a pattern (name, .suffix, glob, /regex/) or a non-empty list of patterns'],
  'rank-zero.json': ['/stages/2/r: found 0, allowed: >= 1'],
  'negative-lr.json': ['/stages/3/optimizer/lr: found -0.1, allowed: > 0'],
  'missing-from-file.json': ['/stages/0/from: found "./does-not-exist.json": file not found (test/fixtures/broken/does-not-exist.json)'],
  'placement-matches-nothing.json': ['/stages/2/placement/options: placement selects no site; available sites: layers.0, layers.1, layers.2'],
  'cycle-a.json': [
    '/stages/0/from: test/fixtures/broken/cycle-b.json: /stages/0/from: "from" cycle: test/fixtures/broken/cycle-a.json → test/fixtures/broken/cycle-b.json → test/fixtures/broken/cycle-a.json',
  ],
  'cycle-b.json': ['"from" cycle: test/fixtures/broken/cycle-b.json → test/fixtures/broken/cycle-a.json → test/fixtures/broken/cycle-b.json'],
  'unknown-key.json': [
    '/stages/3/epochz: unknown key "epochz"; allowed: stage, label, data, steps, epochs, batchSize, accumulateSteps, gradientCheckpointing, optimizer, schedule, clipNorm, logEvery, evalEvery, evalData, checkpointEvery, divergence',
  ],
  'steps-and-epochs.json': ['/stages/3: give exactly one of "steps" or "epochs"'],
  'adam-weight-decay.json': ['/stages/3/optimizer: "weightDecay" is not allowed with adam; use adamw for decoupled weight decay'],
  'train-frozen-without-inject.json': ['/stages/2: nothing to train: every parameter is frozen and no adapter was injected before this stage'],
  'merge-without-inject.json': ['/stages/1: nothing to merge: no adapter was injected or loaded before this stage'],
  'load-not-first.json': ['/stages/0/stage: "evaluate" needs a model: the first stage must be "load"'],
  'data-does-not-fit-model.json': ["/stages/1/data: the data's examples are 28×28×1 = 784 values; the model's input is 100"],
  'bad-architecture-config.json': ['/stages/0/config/sizes: mlp sizes must be at least two positive integers, got [784]'],
  'unknown-architecture.json': ['/stages/0/architecture: unknown architecture "resnet"; known: gpt, llama, mlp'],
  'not-json.json': ['/: not valid JSON: ', '(line 4, column 24)'],
  'bad-name.json': ['/name: found "Digits LoRA", allowed: a string matching /^[a-z0-9][a-z0-9._-]*$/'],
  'layer-out-of-range.json': ["/stages/2/placement/options/layers/1: layer 5 does not exist; the model's layers are 0, 1, 2"],
  'save-nothing.json': ['/stages/1: save needs "adapter": true, "merged": true, "tfjs": true, "gguf": {…} or "ggufAdapter": true (one or more)'],
  'missing-checkpoint.json': ['/stages/0/checkpoint: ', 'no-such-checkpoint: not a checkpoint directory (config.json missing)'],
  'from-without-model.json': [
    '/stages/0/from: test/fixtures/broken/base-saves-nothing.json saves no model to load: it needs a "save" stage with "merged": true',
  ],
  'two-sources.json': [
    '/stages/0: give exactly one of "architecture" (with optional "config" and "vocabulary"), "checkpoint", "from", "tfjs", "huggingface" or "gguf"',
  ],
  'text-data-for-mlp.json': ['/stages/1/data: dataset "moby-dick" is text; the model (mlp) is a classification model'],
  'rank-pattern-unmatched.json': [
    '/stages/2/placement/options/rankPattern/layers.2: rankPattern key "layers.2" matches none of the chosen sites (layers.0, layers.1)',
  ],
};
/** Valid on its own: the base that from-without-model.json points at. */
const helpers = new Set(['base-saves-nothing.json']);

afterEach(() => {
  vi.restoreAllMocks();
});

async function validate(file: string, extra: string[] = []): Promise<{ code: number; errors: string[] }> {
  const errors: string[] = [];
  vi.spyOn(console, 'error').mockImplementation((line: unknown) => errors.push(String(line)));
  vi.spyOn(console, 'log').mockImplementation(() => undefined);
  const code = await main(['validate', file, ...extra]);
  vi.restoreAllMocks();
  return { code, errors };
}

describe('pnpm rankwise validate on broken pipelines', () => {
  test('every fixture in test/fixtures/broken has an expected message (and there are at least 15)', () => {
    const files = readdirSync(dir)
      .filter((f) => f.endsWith('.json') && !helpers.has(f))
      .sort();
    expect(files).toEqual(Object.keys(expected).sort());
    expect(files.length).toBeGreaterThanOrEqual(15);
  });

  test.each(Object.entries(expected))('%s: exit 2 and exactly one clear error', async (file, parts) => {
    const { code, errors } = await validate(`${dir}/${file}`);
    expect(code).toBe(2);
    expect(errors).toHaveLength(1);
    expect(errors[0].startsWith(`✖ ${dir}/${file}: `)).toBe(true);
    for (const part of parts) expect(errors[0]).toContain(part);
  });

  test('the helper base validates (exit 0) and the real pipelines validate', async () => {
    expect((await validate(`${dir}/base-saves-nothing.json`)).code).toBe(0);
    for (const file of readdirSync('pipelines').filter((f) => f.endsWith('.json'))) {
      expect((await validate(`pipelines/${file}`)).code, file).toBe(0);
    }
  });

  test('the Llama pipeline pointed at a model not downloaded yet names the missing directory', async () => {
    // As shipped it reads the tiny fixture (validated above); the README's real model is a path the user fills.
    const { code, errors } = await validate('pipelines/llama-sotu-lora.json', [
      '--set',
      'stages.0.huggingface=../models/SmolLM2-135M',
      '--set',
      'stages.0.context=256',
    ]);
    expect(code).toBe(2);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain('/stages/0/huggingface: ');
    expect(errors[0]).toContain('models/SmolLM2-135M: no such directory (download a model there');
    // A folder that exists but holds no model says so instead.
    const notModel = await validate('pipelines/llama-sotu-lora.json', ['--set', 'stages.0.huggingface=../test/fixtures/hf']);
    expect(notModel.code).toBe(2);
    expect(notModel.errors[0]).toContain('test/fixtures/hf: not a Hugging Face model directory (config.json missing)');
  });

  test('a real process exits with 2, and with 0 on valid files', () => {
    const bad = runCli(['validate', `${dir}/rank-zero.json`]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('/stages/2/r: found 0, allowed: >= 1');
    const good = runCli(['validate', 'pipelines/digits-lora.json']);
    expect(good.status).toBe(0);
    expect(good.stdout).toContain('✓ pipelines/digits-lora.json (9 stages; from pipelines/digits-base.json)');
  });

  test('bad flags exit 2 with the allowed values', async () => {
    const errors: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((line: unknown) => errors.push(String(line)));
    expect(await main(['run', 'pipelines/digits-lora.json', '--backend', 'gpu'])).toBe(2);
    expect(await main(['run', 'pipelines/digits-lora.json', '--seed', '-3'])).toBe(2);
    expect(await main(['run', 'pipelines/digits-lora.json', '--set', 'stages.4.steps'])).toBe(2);
    expect(await main(['run', 'pipelines/digits-lora.json', '--set', 'stages.4.steps=0'])).toBe(2);
    expect(await main(['run', 'pipelines/digits-lora.json', '--set', 'stages.40.steps=3'])).toBe(2);
    expect(errors).toEqual([
      '✖ --backend: found "gpu", allowed: auto, tensorflow-gpu, webgpu, tensorflow, native, wasm, cpu',
      '✖ --seed: found "-3", allowed: an integer from 0 to 4294967295',
      '✖ --set stages.4.steps: expected <path>=<value>, e.g. --set stages.3.steps=100 or --set /seed=7',
      '✖ pipelines/digits-lora.json: /stages/4/steps: found 0, allowed: >= 1',
      '✖ --set: /stages/40: stages.40.steps=3: no item 40 (the array has 9)',
    ]);
  });
});
