import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, test } from 'vitest';
import { addWeightedAdapter, injectLora, Linear, loadAdapter, Module, Rng, saveAdapter, setAdapter, withAdapter } from '@rankwise/core';
import { createOptimizer, trainStep } from '@rankwise/core/training';
import {
  activeAdapters,
  adapterNames,
  adaptersDisabled,
  deleteAdapter,
  disableAdapters,
  enableAdapters,
  type LoraLayer,
  loraLayers,
  mergeAdapters,
  unmergeAdapters,
} from '@rankwise/lora';
import { Conv2d, EmbeddingSite } from '@rankwise/models';
import { useTestBackend } from '../helpers/backend.js';
import { ADAPTER_FIXTURES, AdapterTestModel, testIds } from '../helpers/adapter-model.js';
import { maxAbsDiff, normRelativeError, seededTensor, take, values } from '../helpers/numeric.js';

beforeAll(async () => {
  await useTestBackend();
});

/** The fixture model with the named fixture adapters loaded (the first becomes active). */
async function withFixtures(names: readonly string[]): Promise<AdapterTestModel> {
  const model = new AdapterTestModel(7);
  for (const name of names) await loadAdapter(model, join(ADAPTER_FIXTURES, name), 0, name);
  return model;
}

/** Outputs of a single-adapter model (the pre-existing one-adapter path) with fixture adapter `name`, or of the base. */
async function singleOutputs(name: string | null): Promise<Float32Array> {
  const model = new AdapterTestModel(7);
  if (name !== null) await loadAdapter(model, join(ADAPTER_FIXTURES, name));
  const ids = testIds();
  const out = await take(model.forward(ids));
  ids.dispose();
  model.dispose();
  return out;
}

async function outputs(model: Module): Promise<Float32Array> {
  const ids = testIds();
  const out = await take(model.forward(ids));
  ids.dispose();
  return out;
}

describe('several adapters on one base: switching, active sets, disabling (against the single-adapter path)', () => {
  test('the active adapter gives exactly what a model carrying only that adapter gives; switching changes no base weight', async () => {
    const model = await withFixtures(['a', 'b', 'c']);
    expect(adapterNames(model)).toEqual(['a', 'b', 'c']);
    expect(activeAdapters(model)).toEqual(['a']);
    const base = await Promise.all(loraLayers(model).map(([, l]) => values(l.base.weight)));
    for (const name of ['a', 'b', 'c', 'a']) {
      setAdapter(model, name);
      expect(maxAbsDiff(await outputs(model), await singleOutputs(name))).toBe(0);
    }
    const after = await Promise.all(loraLayers(model).map(([, l]) => values(l.base.weight)));
    after.forEach((w, i) => expect(maxAbsDiff(w, base[i])).toBe(0));
    model.dispose();
  });

  test("several active adapters add their ΔW (per layer: output − base = Σ of each adapter's alone); equal to one cat adapter", async () => {
    const model = await withFixtures(['a', 'b', 'c']);
    // Layer level, all three site kinds: the LoRA parts add up.
    const inputs: Record<string, tf.Tensor> = { emb: testIds(), proj: seededTensor([3, 12], 5), head: seededTensor([3, 10], 6) };
    for (const [path, layer] of loraLayers(model)) {
      const x = inputs[path];
      const part = async (names: string[] | null): Promise<Float32Array> => {
        if (names === null) disableAdapters(model);
        else {
          enableAdapters(model);
          setAdapter(model, names);
        }
        return take(layer.forward(x));
      };
      const base = await part(null);
      const [ya, yb, yc, yabc] = [await part(['a']), await part(['b']), await part(['c']), await part(['a', 'b', 'c'])];
      const summed = base.map((v, i) => v + (ya[i] - v) + (yb[i] - v) + (yc[i] - v));
      expect(normRelativeError(yabc, summed)).toBeLessThan(1e-6);
    }
    Object.values(inputs).forEach((t) => t.dispose());
    // Model level: a and b active together equals a single adapter holding cat(a, b) with weights 1, 1 (exactly ΔWa + ΔWb).
    setAdapter(model, ['a', 'b']);
    const both = await outputs(model);
    await addWeightedAdapter(model, 'ab', { adapters: ['a', 'b'], weights: [1, 1], combination: 'cat' });
    setAdapter(model, 'ab');
    expect(normRelativeError(await outputs(model), both)).toBeLessThan(1e-6);
    expect(maxAbsDiff(both, await singleOutputs('a'))).toBeGreaterThan(1e-3);
    model.dispose();
  });

  test('disabled: exactly the base model, nothing trainable; enabled again: the active set as before', async () => {
    const model = await withFixtures(['a', 'b']);
    setAdapter(model, ['b', 'a']);
    const active = await outputs(model);
    disableAdapters(model);
    expect(adaptersDisabled(model)).toBe(true);
    expect(maxAbsDiff(await outputs(model), await singleOutputs(null))).toBe(0);
    expect(model.trainableParameters().filter((p) => /lora_/.test(p.name))).toEqual([]);
    enableAdapters(model);
    expect(activeAdapters(model)).toEqual(['b', 'a']);
    expect(maxAbsDiff(await outputs(model), active)).toBe(0);
    model.dispose();
  });

  test('withAdapter picks an adapter (or the base, null) for one call and restores the previous state, also after a throw', async () => {
    const model = await withFixtures(['a', 'b']);
    const flags = () => model.parameters().map((p) => p.trainable);
    const before = flags();
    expect(maxAbsDiff(await withAdapter(model, 'b', () => outputs(model)), await singleOutputs('b'))).toBe(0);
    expect(maxAbsDiff(await withAdapter(model, null, () => outputs(model)), await singleOutputs(null))).toBe(0);
    await expect(withAdapter(model, 'b', () => Promise.reject(new Error('request failed')))).rejects.toThrow('request failed');
    await expect(withAdapter(model, 'nope', () => 1)).rejects.toThrow('setAdapter: no adapter named "nope"; adapters: a, b');
    expect(activeAdapters(model)).toEqual(['a']);
    expect(adaptersDisabled(model)).toBe(false);
    expect(flags()).toEqual(before);
    expect(maxAbsDiff(await outputs(model), await singleOutputs('a'))).toBe(0);
    model.dispose();
  });

  test('training trains the active adapter only: the other adapter and the base stay bit-identical', async () => {
    const model = await withFixtures(['a', 'b']);
    for (const p of model.parameters()) if (!/lora_/.test(p.name)) p.trainable = false; // the frozen base
    setAdapter(model, 'b');
    const variables = model.trainableParameters();
    expect(variables.length).toBe(6); // b's A and B on three sites
    const snapshot = async () => Promise.all(model.parameters().map(async (p) => [p.name, await values(p)] as const));
    const before = await snapshot();
    const ids = testIds();
    const target = seededTensor([2, 5, 14], 9);
    const { optimizer } = createOptimizer({ name: 'adam', lr: 1e-2 });
    for (let step = 0; step < 3; step++) tf.dispose(trainStep({ loss: () => tf.losses.meanSquaredError(target, model.forward(ids)), variables, optimizer }));
    const after = new Map(await snapshot());
    for (const [name, value] of before) {
      const changed = maxAbsDiff(after.get(name)!, value) > 0;
      expect([name, changed]).toEqual([name, variables.some((v) => v.name === name)]);
    }
    optimizer.dispose();
    tf.dispose([ids, target]);
    model.dispose();
  });

  test('merge folds every active adapter into W; unmerge restores W; switching unmerges first', async () => {
    const model = await withFixtures(['a', 'b']);
    setAdapter(model, ['a', 'b']);
    const unmerged = await outputs(model);
    const weights = await Promise.all(loraLayers(model).map(([, l]) => values(l.base.weight)));
    mergeAdapters(model);
    expect(loraLayers(model).every(([, l]) => l.mergedAdapters.join() === 'a,b')).toBe(true);
    expect(normRelativeError(await outputs(model), unmerged)).toBeLessThan(1e-6);
    expect(() => deleteAdapter(model, 'a')).toThrow('deleteAdapter: adapter "a" is merged into emb, proj, head; unmerge it first');
    unmergeAdapters(model);
    const restored = await Promise.all(loraLayers(model).map(([, l]) => values(l.base.weight)));
    restored.forEach((w, i) => expect(normRelativeError(w, weights[i])).toBeLessThan(1e-6)); // float32 rounding of W ± ΔW
    mergeAdapters(model);
    setAdapter(model, 'b');
    expect(loraLayers(model).every(([, l]) => !l.merged)).toBe(true);
    // W went through two merge / unmerge round trips in float32 (sums of values up to ~5): rounding, not a wrong ΔW.
    expect(normRelativeError(await outputs(model), await singleOutputs('b'))).toBeLessThan(1e-5);
    model.dispose();
  });

  test('save writes each adapter as PEFT does (non-default names in subfolders); they load back with the same outputs', async () => {
    const model = await withFixtures(['a', 'c']);
    const dir = await mkdtemp(join(tmpdir(), 'rankwise-adapters-'));
    expect(await saveAdapter(model, dir)).toEqual([join(dir, 'a'), join(dir, 'c')]);
    expect((await readdir(dir)).sort()).toEqual(['a', 'c']);
    setAdapter(model, 'c');
    const reloaded = new AdapterTestModel(7);
    await loadAdapter(reloaded, join(dir, 'c'), 0, 'c');
    expect(maxAbsDiff(await outputs(reloaded), await outputs(model))).toBe(0);
    // A model whose adapter is "default" (the single-adapter case) still writes it at the top of the folder.
    const single = new AdapterTestModel(7);
    await loadAdapter(single, join(ADAPTER_FIXTURES, 'a'));
    const top = await mkdtemp(join(tmpdir(), 'rankwise-adapters-'));
    expect(await saveAdapter(single, top)).toEqual([top]);
    expect((await readdir(top)).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
    for (const m of [model, reloaded, single]) m.dispose();
  });

  test("delete: PEFT's next active adapter, factors disposed; deleting every adapter restores the plain model (no leaks)", async () => {
    const empty = tf.memory().numTensors;
    const base = new AdapterTestModel(7);
    const baseTensors = tf.memory().numTensors - empty;
    base.dispose();
    const start = tf.memory().numTensors;
    const model = await withFixtures(['b', 'c', 'a']);
    setAdapter(model, ['c', 'b']);
    deleteAdapter(model, 'c');
    expect(activeAdapters(model)).toEqual(['b']);
    deleteAdapter(model, 'b');
    expect(activeAdapters(model)).toEqual(['a']); // none left active: the first remaining name in sorted order
    expect(loraLayers(model).map(([p]) => p)).toEqual(['emb', 'proj', 'head']);
    deleteAdapter(model, 'a');
    expect(loraLayers(model)).toEqual([]);
    expect(model.getSubmodule('proj')).toBeInstanceOf(Linear);
    expect(model.getSubmodule('emb')).toBeInstanceOf(EmbeddingSite);
    expect(tf.memory().numTensors).toBe(start + baseTensors);
    expect(maxAbsDiff(await outputs(model), await singleOutputs(null))).toBe(0);
    model.dispose();
    expect(tf.memory().numTensors).toBe(start);
  });

  test('no leaks over many switches, forwards and withAdapter calls', async () => {
    const model = await withFixtures(['a', 'b', 'c']);
    const ids = testIds();
    tf.dispose(model.forward(ids));
    const tensors = tf.memory().numTensors;
    for (let i = 0; i < 20; i++) {
      setAdapter(model, i % 2 === 0 ? ['a', 'c'] : 'b');
      tf.dispose(model.forward(ids));
      await withAdapter(model, i % 3 === 0 ? null : 'c', () => tf.dispose(model.forward(ids)));
    }
    expect(tf.memory().numTensors).toBe(tensors);
    ids.dispose();
    model.dispose();
  });

  test('named injection: a second adapter beside the first on a Conv2d site adds its own conv LoRA path; errors name the site', async () => {
    class ConvModel extends Module {
      constructor() {
        super();
        this.addModule(
          'conv',
          new Conv2d(seededTensor([3, 3, 2, 4], 1, 0.3), null, { kernelSize: [3, 3], strides: [1, 1], padding: 'same', dilation: [1, 1] }),
        );
      }
      forward(x: tf.Tensor): tf.Tensor {
        return this.getSubmodule('conv').forward(x);
      }
    }
    const model = new ConvModel();
    injectLora(model, [{ path: 'conv', r: 2, alpha: 4 }], 1);
    injectLora(model, [{ path: 'conv', r: 3, alpha: 3 }], 1, 'second');
    expect(() => injectLora(model, [{ path: 'conv', r: 3, alpha: 3 }], 1, 'second')).toThrow('site "conv" already has a LoRA adapter named "second"');
    const layer = model.getSubmodule('conv') as LoraLayer;
    for (const adapter of layer.adapters()) {
      const b = seededTensor(adapter.b.shape, adapter.r, 0.5);
      adapter.b.assign(b);
      b.dispose();
    }
    const x = seededTensor([1, 5, 5, 2], 4);
    const run = async (names: string[]) => {
      setAdapter(model, names);
      return take(model.forward(x));
    };
    disableAdapters(model);
    const base = await take(model.forward(x));
    enableAdapters(model);
    const [one, two, both] = [await run(['default']), await run(['second']), await run(['default', 'second'])];
    expect(
      normRelativeError(
        both,
        base.map((v, i) => one[i] + two[i] - v),
      ),
    ).toBeLessThan(1e-6);
    expect(maxAbsDiff(two, base)).toBeGreaterThan(1e-3);
    x.dispose();
    model.dispose();
  });

  test("DoRA beside a plain adapter, both active: PEFT's order (plain adds, then DoRA rescales the running output minus bias)", async () => {
    const linear = new Linear(6, 5, new Rng(3), { role: 'hidden', layer: 0 });
    const holder = new (class extends Module {
      constructor() {
        super();
        this.addModule('fc', linear);
      }
      forward(x: tf.Tensor): tf.Tensor {
        return this.getSubmodule('fc').forward(x);
      }
    })();
    injectLora(holder, [{ path: 'fc', r: 2, alpha: 4 }], 1, 'plain');
    injectLora(holder, [{ path: 'fc', r: 3, alpha: 3, dora: true }], 1, 'dora');
    const layer = holder.getSubmodule('fc') as LoraLayer;
    for (const adapter of layer.adapters()) {
      const b = seededTensor(adapter.b.shape, adapter.r + 10, 0.4);
      adapter.b.assign(b);
      b.dispose();
    }
    const dora = layer.adapter('dora')!;
    const m = tf.tidy(() => dora.magnitude!.mul(seededTensor([5], 4, 0.2).add(1)));
    dora.magnitude!.assign(m);
    m.dispose();
    holder.eval();
    setAdapter(holder, ['plain', 'dora']);
    const x = seededTensor([4, 6], 8);
    const got = await take(holder.forward(x));
    // PEFT (lora/layer.py Linear.forward, variants.py DoraLinearVariant, dora.py DoraLinearLayer.forward), written out:
    const want = await take(
      tf.tidy(() => {
        const plain = layer.adapter('plain')!;
        const w = linear.weight;
        let result = tf.matMul(x, w).add(linear.bias!); // base
        result = result.add(tf.matMul(tf.matMul(x, plain.a), plain.b).mul(plain.scaling)); // plain LoRA
        const norm = w.add(tf.matMul(dora.a, dora.b).mul(dora.scaling)).square().sum(0).sqrt(); // ‖W + s·A·B‖ per output
        const scale = dora.magnitude!.div(norm);
        const baseResult = result.sub(linear.bias!); // the running result minus bias
        const lora = tf.matMul(tf.matMul(x, dora.a), dora.b);
        return result.add(baseResult.mul(scale.sub(1)).add(lora.mul(scale).mul(dora.scaling)));
      }),
    );
    expect(normRelativeError(got, want)).toBeLessThan(1e-6);
    x.dispose();
    holder.dispose();
  });
});
