import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { createRankwise, PipelineValidationError, type Pipeline } from '@rankwise/core';
import { SilentProgress } from '@rankwise/core/runs';
import { encodeSafetensors } from '@rankwise/formats';
import pattern from '@rankwise/placement-pattern';

/** Validation reads what the run will read (headers only for weights), before anything loads. */

const rankwise = () => createRankwise({ progress: new SilentProgress(), plugins: [pattern] });

async function problems(pipeline: Pipeline, dir: string): Promise<string[]> {
  const error = await rankwise()
    .validate(pipeline, dir)
    .then(
      () => null,
      (e: unknown) => e,
    );
  if (error === null) return [];
  expect(error).toBeInstanceOf(PipelineValidationError);
  return (error as PipelineValidationError).issues.map((i) => `${i.pointer}: ${i.message}`);
}

const zeros = (shape: number[]) => new Float32Array(shape.reduce((a, b) => a * b, 1));

test('checkpoint weights: missing file, missing tensor, wrong shape are found from the header alone', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'rankwise-inputs-'));
  const ckpt = join(dir, 'ckpt');
  await mkdir(ckpt);
  await writeFile(
    join(ckpt, 'config.json'),
    JSON.stringify({ format: 'rankwise-checkpoint', version: 1, architecture: 'mlp', task: 'classification', config: { sizes: [4, 3, 2] }, extra: {} }),
  );
  const load: Pipeline = { name: 'p', stages: [{ stage: 'load', checkpoint: './ckpt' }] };
  expect(await problems(load, dir)).toEqual([
    expect.stringMatching(/^\/stages\/0\/checkpoint: cannot read .*ckpt\/model\.safetensors: does not exist \(ENOENT\)$/),
  ]);
  await writeFile(
    join(ckpt, 'model.safetensors'),
    encodeSafetensors([
      { name: 'layers.0.weight', shape: [4, 5], data: zeros([4, 5]) },
      { name: 'layers.0.bias', shape: [3], data: zeros([3]) },
    ]),
  );
  expect(await problems(load, dir)).toEqual([
    expect.stringMatching(/^\/stages\/0\/checkpoint: .*model\.safetensors: tensor "layers\.0\.weight": shape \[4, 5\], the config says \[4, 3\]$/),
    expect.stringMatching(/^\/stages\/0\/checkpoint: .*model\.safetensors: no tensor "layers\.1\.weight"; the config describes a mlp with a 3×2 layer there$/),
  ]);
  await writeFile(join(ckpt, 'model.safetensors'), new Uint8Array([1, 2, 3]));
  expect(await problems(load, dir)).toEqual([expect.stringMatching(/truncated: 3 bytes/)]);
});

test('adapter weights must fit the sites they target', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'rankwise-inputs-'));
  const adapter = join(dir, 'adapter');
  await mkdir(adapter);
  await writeFile(join(adapter, 'adapter_config.json'), JSON.stringify({ peft_type: 'LORA', r: 2, lora_alpha: 4, target_modules: ['layers.0'] }));
  await writeFile(
    join(adapter, 'adapter_model.safetensors'),
    encodeSafetensors([
      { name: 'base_model.model.layers.0.lora_A.weight', shape: [2, 7], data: zeros([2, 7]) },
      { name: 'base_model.model.layers.0.lora_B.weight', shape: [3, 2], data: zeros([3, 2]) },
      { name: 'base_model.model.layers.9.lora_A.weight', shape: [2, 4], data: zeros([2, 4]) },
    ]),
  );
  const issues = await problems({ name: 'p', stages: [{ stage: 'load', architecture: 'mlp', config: { sizes: [4, 3, 2] }, adapter: './adapter' }] }, dir);
  expect(issues).toEqual([
    expect.stringMatching(
      /\/stages\/0\/adapter: .*adapter_model\.safetensors: tensor "base_model\.model\.layers\.0\.lora_A\.weight": shape \[2, 7\], the model expects \[r, 4\]/,
    ),
    expect.stringMatching(/tensor "base_model\.model\.layers\.9\.lora_A\.weight": site "layers\.9" is not in the model/),
  ]);
});

test('DoRA magnitudes, conv factors and embedding factors are adapter weights too; their shapes are checked', async () => {
  // A saved conv2d adapter (PEFT's [r, in, kh, kw] / [out, r, 1, 1]) on its tfjs model validates clean.
  const conv = join(import.meta.dirname, '../fixtures/tfjs-conv-lora');
  expect(await problems({ name: 'p', stages: [{ stage: 'load', tfjs: './base/model.json', adapter: './adapter' }] }, conv)).toEqual([]);
  const dir = await mkdtemp(join(tmpdir(), 'rankwise-inputs-'));
  const adapter = join(dir, 'adapter');
  await mkdir(adapter);
  await writeFile(
    join(adapter, 'adapter_config.json'),
    JSON.stringify({ peft_type: 'LORA', r: 2, lora_alpha: 4, target_modules: ['layers.0', 'layers.1'], use_dora: true }),
  );
  const dora = (magnitude: number) =>
    encodeSafetensors([
      { name: 'base_model.model.layers.0.lora_A.weight', shape: [2, 4], data: zeros([2, 4]) },
      { name: 'base_model.model.layers.0.lora_B.weight', shape: [3, 2], data: zeros([3, 2]) },
      { name: 'base_model.model.layers.0.lora_magnitude_vector', shape: [3], data: zeros([3]).fill(1) },
      { name: 'base_model.model.layers.1.lora_A.weight', shape: [2, 3], data: zeros([2, 3]) },
      { name: 'base_model.model.layers.1.lora_B.weight', shape: [2, 2], data: zeros([2, 2]) },
      { name: 'base_model.model.layers.1.lora_magnitude_vector.weight', shape: [magnitude], data: zeros([magnitude]).fill(1) },
    ]);
  const mlp: Pipeline = { name: 'p', stages: [{ stage: 'load', architecture: 'mlp', config: { sizes: [4, 3, 2] }, adapter: './adapter' }] };
  await writeFile(join(adapter, 'adapter_model.safetensors'), dora(2));
  expect(await problems(mlp, dir)).toEqual([]);
  await writeFile(join(adapter, 'adapter_model.safetensors'), dora(5));
  expect(await problems(mlp, dir)).toEqual([
    expect.stringMatching(
      /\/stages\/0\/adapter: .*tensor "base_model\.model\.layers\.1\.lora_magnitude_vector\.weight": shape \[5\], the model expects \[2\] \(a DoRA magnitude per output\)/,
    ),
  ]);
});

test('text data: missing, binary and non-UTF-8 files are refused at validation; a real text file passes', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'rankwise-inputs-'));
  await writeFile(join(dir, 'binary.txt'), new Uint8Array([72, 105, 0, 1, 2, 3]));
  await writeFile(join(dir, 'latin1.txt'), new Uint8Array([99, 97, 102, 0xe9, 10]));
  await writeFile(join(dir, 'good.txt'), 'Call me Ishmael. Some years ago — never mind how long precisely.\n'.repeat(40));
  const gpt = { vocabSize: 96, dim: 8, layers: 1, heads: 2, context: 8 };
  const make = (path: string): Pipeline => ({
    name: 'p',
    stages: [
      { stage: 'load', architecture: 'gpt', config: gpt, vocabulary: { dataset: 'text-file', path: './good.txt' } },
      { stage: 'train', data: { dataset: 'text-file', split: 'train', path, blockSize: 512 }, steps: 2, optimizer: { name: 'adam', lr: 0.001 } },
    ],
  });
  expect(await problems(make('./missing.txt'), dir)).toEqual([
    expect.stringMatching(
      /^\/stages\/1\/data\/path: missing\.txt: does not exist \(ENOENT\)$|^\/stages\/1\/data\/path: .*missing\.txt: does not exist \(ENOENT\)$/,
    ),
  ]);
  expect(await problems(make('./binary.txt'), dir)).toEqual([expect.stringMatching(/binary\.txt: a binary file, not text \(a NUL byte at offset 2\)$/)]);
  expect(await problems(make('./latin1.txt'), dir)).toEqual([expect.stringMatching(/latin1\.txt: not valid UTF-8 text/)]);
  expect(await problems(make('./good.txt'), dir)).toEqual([]);
  // 2,600 bytes are one block of the default 10,000: no train/validation split (the run would fail on it)
  const oneBlock = make('./good.txt');
  delete (oneBlock.stages[1] as { data: { blockSize?: number } }).data.blockSize;
  expect(await problems(oneBlock, dir)).toEqual([
    expect.stringMatching(/^: the text is too short to split: at most 2\d{3} tokens, one block of blockSize 10000; /),
  ]);
});

test('sizes: 1e12 steps and an MLP too big for memory are refused, unless "allowLargeRuns": true says they are meant', async () => {
  const train = (steps: number, sizes: number[], allowLargeRuns?: boolean): Pipeline => ({
    name: 'p',
    ...(allowLargeRuns ? { allowLargeRuns } : {}),
    stages: [
      { stage: 'load', architecture: 'mlp', config: { sizes } },
      { stage: 'train', data: { dataset: 'digits', split: 'train' }, steps, optimizer: { name: 'adam', lr: 0.001 } },
    ],
  });
  expect(await problems(train(1e12, [784, 10]), '.')).toEqual([
    '/stages/1/steps: found 1000000000000, allowed: at most 10,000,000 (likely a typo; set "allowLargeRuns": true at the top level if you mean it)',
  ]);
  expect(await problems(train(1e12, [784, 10], true), '.')).toEqual([]);
  expect(await problems(train(10, [784, 1e9, 10]), '.')).toEqual([
    expect.stringMatching(/^\/stages\/0: a mlp layer of 7\.84e\+11 weights exceeds the largest tensor TensorFlow\.js can hold/),
  ]);
  // 20,000² layers (each fits one tensor), enough of them that weights, gradients and Adam's moments need twice this machine's memory
  const layers = Math.ceil((2 * totalmem()) / (16 * 20_000 ** 2)) + 1;
  expect(await problems(train(10, [784, ...Array<number>(layers).fill(20_000), 10]), '.')).toEqual([
    expect.stringMatching(
      /^\/stages\/0: a mlp of about \S+ parameters needs about \d+\.\d GiB to train, this machine has \d+\.\d GiB \(set "allowLargeRuns": true/,
    ),
  ]);
});
