import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, test } from 'vitest';
import {
  addWeightedAdapter,
  createRankwise,
  injectLora,
  type Linear,
  loadAdapter,
  Mlp,
  PipelineValidationError,
  saveAdapter,
  type Pipeline,
} from '@rankwise/core';
import { SilentProgress } from '@rankwise/core/runs';
import { readAdapter } from '@rankwise/formats';
import { activeAdapters, adapterNames, loraLayers } from '@rankwise/lora';
import { createDatasetSource } from '@rankwise/datasets';
import { useTestBackend } from '../helpers/backend.js';
import { seededTensor, take } from '../helpers/numeric.js';

const SIZES = [784, 16, 16, 10];
let dir: string;

/** A PEFT adapter for the digits MLP on `sites` with rank r and random B, saved to `dir/<name>`. */
async function makeAdapter(name: string, sites: string[], r: number, seed: number): Promise<void> {
  const model = new Mlp({ sizes: SIZES }, 1);
  injectLora(
    model,
    sites.map((path) => ({ path, r, alpha: 2 * r })),
    seed,
  );
  for (const [, layer] of loraLayers(model)) {
    const b = seededTensor(layer.loraB.shape, seed + layer.r, 0.3);
    layer.loraB.assign(b);
    b.dispose();
  }
  await saveAdapter(model, join(dir, name));
  model.dispose();
}

beforeAll(async () => {
  await useTestBackend();
  dir = await mkdtemp(join(tmpdir(), 'rankwise-load-adapters-'));
  await makeAdapter('sql', ['layers.0', 'layers.1'], 2, 3);
  await makeAdapter('chat', ['layers.1', 'layers.2'], 2, 4);
  await makeAdapter('wide', ['layers.1'], 4, 5);
});

const rankwise = () => createRankwise({ cwd: dir, progress: new SilentProgress(), datasets: createDatasetSource() });
const load = (extra: Record<string, unknown>): Pipeline =>
  ({
    name: 'adapters',
    seed: 1,
    stages: [
      { stage: 'load', architecture: 'mlp', config: { sizes: SIZES }, ...extra },
      { stage: 'save', adapter: true },
    ],
  }) as Pipeline;

async function issuesOf(promise: Promise<unknown>): Promise<string[]> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof PipelineValidationError) return error.issues.map((i) => `${i.pointer}: ${i.message}`);
    throw error;
  }
  return [];
}

describe('load: named adapters, combinations and the active set', () => {
  test('adapters + combine + active run: the model carries all three, "mix" active; save writes each as PEFT does', async () => {
    const pipeline = load({
      adapters: { sql: './sql', chat: './chat' },
      combine: { mix: { adapters: ['sql', 'chat'], weights: [0.7, 0.3], combination: 'cat' } },
      active: 'mix',
    });
    await writeFile(join(dir, 'named.json'), JSON.stringify(pipeline));
    const tensors = tf.memory().numTensors;
    const { runDir, model } = await rankwise().run('named.json', { out: join(dir, 'runs'), keepModel: true });
    expect(adapterNames(model!)).toEqual(['sql', 'chat', 'mix']);
    expect(activeAdapters(model!)).toEqual(['mix']);
    expect((await readdir(join(runDir, 'adapter'))).sort()).toEqual(['chat', 'mix', 'sql']);
    // The saved mix is what the API computes from the same two adapters (cat is deterministic).
    const api = new Mlp({ sizes: SIZES }, 1);
    await loadAdapter(api, join(dir, 'sql'), 0, 'sql');
    await loadAdapter(api, join(dir, 'chat'), 0, 'chat');
    await addWeightedAdapter(api, 'mix', { adapters: ['sql', 'chat'], weights: [0.7, 0.3], combination: 'cat' });
    const saved = await readAdapter(join(runDir, 'adapter', 'mix'));
    expect(saved.map((s) => [s.path, s.r, s.alpha])).toEqual([
      ['layers.0', 2, 2],
      ['layers.1', 4, 4],
      ['layers.2', 2, 2],
    ]);
    for (const site of saved) {
      const adapter = loraLayers(api)
        .find(([p]) => p === site.path)![1]
        .adapter('mix')!;
      expect(Array.from(site.loraA)).toEqual(Array.from(await take(adapter.a.transpose()))); // lora_A = Aᵀ [r, in]
    }
    api.dispose();
    model!.dispose();
    expect(tf.memory().numTensors).toBe(tensors); // base, three adapters and the combination's work: all released
  });

  test('training after load.adapters trains the active adapter only: the other adapter and the base stay bit-identical', async () => {
    const pipeline = {
      name: 'train-chat',
      seed: 2,
      stages: [
        { stage: 'load', architecture: 'mlp', config: { sizes: SIZES }, adapters: { sql: './sql', chat: './chat' }, active: 'chat' },
        { stage: 'train', data: { dataset: 'digits', split: 'train', limit: 64 }, steps: 2, batchSize: 32, optimizer: { name: 'adam', lr: 0.01 } },
        { stage: 'save', adapter: true },
      ],
    } as Pipeline;
    await writeFile(join(dir, 'train-chat.json'), JSON.stringify(pipeline));
    const { runDir, model, summary } = await rankwise().run('train-chat.json', { out: join(dir, 'runs'), keepModel: true });
    expect(summary.trainableParams).toBe(2 * (16 + 16) + 2 * (16 + 10)); // chat: r 2 on layers.1 [16, 16] and layers.2 [16, 10]
    const [sqlBefore, sqlAfter, chatBefore, chatAfter] = await Promise.all([
      readAdapter(join(dir, 'sql')),
      readAdapter(join(runDir, 'adapter', 'sql')),
      readAdapter(join(dir, 'chat')),
      readAdapter(join(runDir, 'adapter', 'chat')),
    ]);
    expect(sqlAfter).toEqual(sqlBefore);
    expect(chatAfter.map((s) => s.loraB)).not.toEqual(chatBefore.map((s) => s.loraB));
    const fresh = new Mlp({ sizes: SIZES }, 2);
    const baseNow = loraLayers(model!).map(([, l]) => l.base.weight);
    const baseThen = loraLayers(model!).map(([p]) => (fresh.getSubmodule(p) as Linear).weight);
    for (const [i, w] of baseNow.entries()) expect(Array.from(await w.data())).toEqual(Array.from(await baseThen[i].data()));
    fresh.dispose();
    model!.dispose();
  });

  test('validation names the option: unknown sources, rank mismatch, density, active, "default" beside "adapter", combine without adapters', async () => {
    const rw = rankwise();
    expect(await issuesOf(rw.validate(load({ adapters: { sql: './sql' }, combine: { mix: { adapters: ['sql', 'nope'], weights: [1, 1] } } }), dir))).toEqual([
      '/stages/0/combine/mix/adapters/1: no adapter named "nope"; allowed: sql',
    ]);
    expect(
      await issuesOf(
        rw.validate(
          load({ adapters: { sql: './sql', wide: './wide' }, combine: { mix: { adapters: ['sql', 'wide'], weights: [1, 1], combination: 'linear' } } }),
          dir,
        ),
      ),
    ).toEqual([
      '/stages/0/combine/mix/adapters: "linear" combines A\'s and B\'s directly, so every adapter needs the same rank at each site; site "layers.1" has r = 2 in "sql", r = 4 in "wide" (use "cat" or "svd" for different ranks)',
    ]);
    expect(
      await issuesOf(
        rw.validate(
          load({ adapters: { sql: './sql', chat: './chat' }, combine: { mix: { adapters: ['sql', 'chat'], weights: [1, 1], combination: 'ties' } } }),
          dir,
        ),
      ),
    ).toEqual(['/stages/0/combine/mix/density: found undefined; "ties" needs a density in [0, 1] (the fraction of values kept)']);
    expect(await issuesOf(rw.validate(load({ adapters: { sql: './sql' }, active: ['sql', 'chat'] }), dir))).toEqual([
      '/stages/0/active/1: found "chat"; allowed: sql',
    ]);
    expect(await issuesOf(rw.validate(load({ adapter: './sql', adapters: { default: './chat' } }), dir))).toEqual([
      '/stages/0/adapters/default: found "default" beside "adapter", which is the adapter named "default"; allowed: another name',
    ]);
    expect(await issuesOf(rw.validate(load({ active: 'sql' }), dir))).toEqual([
      '/stages/0/active: found without "adapter" or "adapters"; allowed: with adapters to combine or activate',
      '/stages/1/adapter: no adapter to save: no inject stage (or load.adapter / load.adapters) before this stage',
    ]);
    const missing = await issuesOf(rw.validate(load({ adapters: { sql: './sql', gone: './gone' } }), dir));
    expect(missing).toEqual([
      expect.stringMatching(/^\/stages\/0\/adapters\/gone: .*gone: not an adapter directory \(adapter_config\.json missing\)$/),
      '/stages/0/adapters/gone: cannot read gone/adapter_model.safetensors: does not exist (ENOENT)', // the run-input checks, as for "adapter"
    ]);
    const withInject = load({ adapters: { sql: './sql' } });
    withInject.stages.splice(1, 0, { stage: 'freeze' }, {
      stage: 'inject',
      r: 2,
      placement: { plugin: '@rankwise/placement-pattern', options: { target: ['layers.2'] } },
    } as never);
    expect(await issuesOf(rw.validate(withInject, dir))).toEqual([
      '/stages/2: found after load.adapters: the new adapter would sit inactive beside the named ones (PEFT\'s add_adapter); allowed: train a loaded adapter by making it "active", or load one adapter with "adapter"',
    ]);
    const badName = await issuesOf(rw.validate(load({ adapters: { 'bad name': './sql' } }), dir));
    expect(badName).toEqual(['/stages/0/adapters/bad name: unknown key "bad name"; allowed: keys matching ^[A-Za-z0-9_-]{1,64}$']);
  });
});
