import { readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, test, vi } from 'vitest';
import { main } from '@rankwise/cli';
import { runCli } from '../helpers/cli.js';
import { saveToTemp, tinyCnn } from '../helpers/tfjs-models.js';

/** A fresh copy of the tiny CNN folder, optionally broken by `edit`, and a pipeline that loads and adapts it. */
async function pipelineFor(
  // biome-ignore lint/suspicious/noExplicitAny: the edits reach deep into pipeline JSON of many shapes
  edit: (dir: string, json: Record<string, any>) => Promise<void> | void,
  target: string[] = ['conv_a', 'head'],
): Promise<{ file: string; model: string }> {
  const model = tinyCnn();
  const dir = await saveToTemp(model, 'bad-model');
  model.dispose();
  const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8'));
  await edit(dir, json);
  await writeFile(join(dir, 'model.json'), JSON.stringify(json));
  const pipeline = {
    name: 'tfjs-bad',
    stages: [
      { stage: 'load', tfjs: './bad-model' },
      { stage: 'freeze' },
      { stage: 'inject', r: 2, placement: { plugin: '@rankwise/placement-pattern', options: { target } } },
      { stage: 'save', tfjs: true, adapter: true },
    ],
  };
  const file = join(dir, '..', 'pipeline.json');
  await writeFile(file, JSON.stringify(pipeline));
  return { file: relative(process.cwd(), file), model: relative(process.cwd(), join(dir, 'model.json')) };
}

async function validate(file: string): Promise<{ code: number; errors: string[] }> {
  const errors: string[] = [];
  vi.spyOn(console, 'error').mockImplementation((line: unknown) => errors.push(String(line)));
  vi.spyOn(console, 'log').mockImplementation(() => undefined);
  const code = await main(['validate', file]);
  vi.restoreAllMocks();
  return { code, errors };
}

afterEach(() => {
  vi.restoreAllMocks();
});

beforeAll(() => {
  tf.enableProdMode();
});

describe('rankwise validate on tfjs models: one line, exit 2, no weight read', () => {
  test('a valid tfjs pipeline validates (exit 0)', async () => {
    const { file } = await pipelineFor(() => undefined);
    expect((await validate(file)).code).toBe(0);
  });

  // biome-ignore lint/suspicious/noExplicitAny: the edits reach deep into pipeline JSON of many shapes
  const cases: Array<[string, (dir: string, json: Record<string, any>) => Promise<void> | void, (model: string) => string[]]> = [
    [
      'a GraphModel',
      (_dir, json) => {
        json.format = 'graph-model';
        json.modelTopology = { node: [{ name: 'x', op: 'Placeholder' }], versions: { producer: 1 } };
      },
      (m) => [`/stages/0/tfjs: ${m}: /format: a GraphModel: inference-only`, 'tensorflowjs_converter --input_format keras --output_format tfjs_layers_model'],
    ],
    [
      'a missing weight shard',
      (dir) => rm(join(dir, 'group1-shard1of1.bin')),
      (m) => [`/stages/0/tfjs: ${m}: /weightsManifest/0/paths/0: weight shard "group1-shard1of1.bin" not found`],
    ],
    [
      'a short weight shard',
      (dir) => truncate(join(dir, 'group1-shard1of1.bin'), 100),
      // conv_a 54+3, bn 4·3, conv_b 48+4, head 256+4 = 381 floats = 1,524 bytes
      (m) => [
        `/stages/0/tfjs: ${m}: /weightsManifest/0/paths: shards group1-shard1of1.bin hold 100 bytes; the manifest's weights need 1524 (a short or wrong shard)`,
      ],
    ],
    [
      'a manifest that disagrees with the topology',
      (_dir, json) => {
        const head = json.weightsManifest[0].weights.find((w: { name: string }) => w.name === 'head/kernel');
        head.shape = [32, 4];
      },
      (m) => [`${m}: /weightsManifest/0/weights/`, '/shape: weight "head/kernel": found [32, 4], the topology implies [64, 4]'],
    ],
    [
      'an unknown custom layer class',
      (_dir, json) => {
        json.modelTopology.config.layers[3].class_name = 'MyFancyFlatten';
      },
      (m) => [
        `${m}: /modelTopology/config/layers/3/class_name: layer "flat": unknown layer class "MyFancyFlatten" (a custom layer TensorFlow.js does not know)`,
      ],
    ],
  ];

  test.each(cases)('%s', async (_name, edit, parts) => {
    const { file, model } = await pipelineFor(edit);
    const { code, errors } = await validate(file);
    expect(code).toBe(2);
    expect(errors).toHaveLength(1);
    expect(errors[0].startsWith(`✖ ${file}: `)).toBe(true);
    for (const part of parts(model)) expect(errors[0]).toContain(part);
  });

  test('a LoRA placement on a layer with no LoRA form names the layer and the types that have one', async () => {
    const { file } = await pipelineFor(() => undefined, ['conv_a', 'bn']);
    const { code, errors } = await validate(file);
    expect(code).toBe(2);
    expect(errors).toEqual([
      `✖ ${file}: /stages/2/placement/options: layer "bn" is a BatchNormalization, which has no LoRA form; LoRA applies to Dense, Conv2D, Embedding layers (this model's: conv_a, conv_b, head)`,
    ]);
  });

  test('a real process prints one line and exits with 2', async () => {
    const { file } = await pipelineFor((dir) => rm(join(dir, 'group1-shard1of1.bin')));
    const result = runCli(['validate', file]);
    expect(result.status).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain('not found');
  });
});
