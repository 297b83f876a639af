import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { addWeightedAdapter, loadAdapter, saveAdapter, setAdapter } from '@rankwise/core';
import { ADAPTER_CONFIG } from '@rankwise/formats';
import { activeAdapters, LoraLayer, loraLayers, type CombinationType, type CombineOptions, type DareFactor, type MajoritySignMethod } from '@rankwise/lora';
import { useTestBackend } from '../helpers/backend.js';
import { ADAPTER_FIXTURES, AdapterTestModel, testIds } from '../helpers/adapter-model.js';
import { maxAbsDiff, normRelativeError, take, values } from '../helpers/numeric.js';

interface Entry {
  shape: number[];
  data: number[];
}
interface Case {
  id: string;
  type: CombinationType;
  adapters: string[];
  weights: number[];
  density?: number;
  sign?: MajoritySignMethod;
  svd_rank?: number;
  svd_clamp?: number;
  /** site → factor → adapter → keep-mask (rankwise layout). */
  masks?: Record<string, Partial<Record<DareFactor, Record<string, Entry>>>>;
  sites: Record<string, { r: number; a: Entry; b: Entry; delta: Entry }>;
}

/** scripts/peft-reference/combine.py's output: PEFT's rules re-implemented in float64 PyTorch. */
const reference = JSON.parse(await readFile(join(ADAPTER_FIXTURES, 'combine-reference.json'), 'utf8')) as { cases: Case[] };

/** The fixture model with adapters a, b, c loaded by name (a first, so a is active). */
async function modelWithFixtures(): Promise<AdapterTestModel> {
  const model = new AdapterTestModel(7);
  for (const name of ['a', 'b', 'c']) await loadAdapter(model, join(ADAPTER_FIXTURES, name), 0, name);
  return model;
}

function optionsOf(c: Case): CombineOptions {
  return {
    adapters: c.adapters,
    weights: c.weights,
    combination: c.type,
    density: c.density,
    majoritySign: c.sign,
    svdRank: c.svd_rank,
    svdClamp: c.svd_clamp,
    dareMask: c.masks ? (site, factor, adapter) => c.masks![site][factor]![adapter].data : undefined,
  };
}

/** The new adapter's A·B at a site (scaling 1: α = r). */
async function productAt(model: AdapterTestModel, site: string, name: string): Promise<Float32Array> {
  const layer = loraLayers(model).find(([p]) => p === site)![1];
  const adapter = layer.adapter(name)!;
  expect(adapter.scaling).toBe(1);
  return take(tf.matMul(adapter.a, adapter.b)); // [fanIn, r]·[r, out]
}

let model: AdapterTestModel;
beforeAll(async () => {
  await useTestBackend();
  model = await modelWithFixtures();
});
afterAll(() => model.dispose());

describe("add_weighted_adapter against scripts/peft-reference/combine.py (PEFT's rules in float64 PyTorch)", () => {
  // Tolerance: both sides compute in float64 from the same float32 inputs; rankwise rounds the factors to float32.
  for (const c of reference.cases) {
    test(`${c.id}: ${c.type} of ${c.adapters.join(', ')} with weights ${c.weights.join(', ')}${c.density === undefined ? '' : `, density ${c.density}`}${c.sign ? `, ${c.sign}` : ''}`, async () => {
      const name = `mix-${c.id.replace(/_/g, '-')}`;
      const sites = await addWeightedAdapter(model, name, optionsOf(c));
      expect(sites.map((s) => s.path).sort()).toEqual(Object.keys(c.sites).sort());
      for (const [site, want] of Object.entries(c.sites)) {
        const layer = loraLayers(model).find(([p]) => p === site)![1];
        const adapter = layer.adapter(name)!;
        expect(adapter.r).toBe(want.r);
        // ΔW: the only thing an SVD fixes (its factors are unique up to the sign of each component).
        expect(normRelativeError(await productAt(model, site, name), want.delta.data)).toBeLessThan(2e-6);
        if (!c.type.endsWith('svd') || c.adapters.length === 1 || c.svd_clamp !== undefined) {
          // Factor rules and cat are deterministic: A and B themselves match; so do clamped SVD factors (both sides fix
          // each component's sign the same way, and the clamp's quantile depends on it).
          expect(normRelativeError(await values(adapter.a), want.a.data)).toBeLessThan(2e-6);
          expect(normRelativeError(await values(adapter.b), want.b.data)).toBeLessThan(2e-6);
        }
      }
      // As in PEFT: the new adapter is neither active nor trainable.
      expect(activeAdapters(model)).toEqual(['a']);
      for (const [, layer] of loraLayers(model)) {
        const adapter = layer.adapter(name);
        if (adapter) expect([adapter.a.trainable, adapter.b.trainable]).toEqual([false, false]);
      }
    });
  }

  test("cat is exactly the weighted sum Σ wᵢ·ΔWᵢ (the reference agrees with rankwise's own ΔW of the sources)", async () => {
    const c = reference.cases.find((x) => x.id === 'cat')!;
    const layer = loraLayers(model).find(([p]) => p === 'proj')![1];
    const sum = tf.tidy(() => c.adapters.reduce((acc, name, i) => acc.add(layer.adapterDelta(layer.adapter(name)!).mul(c.weights[i])), tf.zeros([12, 10])));
    expect(normRelativeError(await take(sum), c.sites.proj.delta.data)).toBeLessThan(2e-6);
  });
});

describe('add_weighted_adapter: using and saving the result, validation, DARE seeding', () => {
  test("the combined adapter, switched to and saved in PEFT's layout, loads as a single adapter with the same outputs", async () => {
    const fresh = await modelWithFixtures();
    await addWeightedAdapter(fresh, 'blend', { adapters: ['a', 'b'], weights: [0.5, 0.5], combination: 'svd' });
    setAdapter(fresh, 'blend');
    const ids = testIds();
    const outputs = await take(fresh.forward(ids));
    const dir = await mkdtemp(join(tmpdir(), 'rankwise-combine-'));
    const written = await saveAdapter(fresh, dir, { names: ['blend'] });
    expect(written).toEqual([join(dir, 'blend')]);
    const config = JSON.parse(await readFile(join(dir, 'blend', ADAPTER_CONFIG), 'utf8')) as Record<string, unknown>;
    expect([config.r, config.lora_alpha, config.use_rslora, config.use_dora]).toEqual([4, 4, false, false]);
    const single = new AdapterTestModel(7);
    await loadAdapter(single, join(dir, 'blend'));
    expect(maxAbsDiff(await take(single.forward(ids)), outputs)).toBeLessThan(1e-6);
    // The sources are untouched by the combination: a alone gives what a single-adapter model with a gives.
    setAdapter(fresh, 'a');
    const onlyA = new AdapterTestModel(7);
    await loadAdapter(onlyA, join(ADAPTER_FIXTURES, 'a'));
    expect(maxAbsDiff(await take(fresh.forward(ids)), await take(onlyA.forward(ids)))).toBe(0);
    ids.dispose();
    for (const m of [fresh, single, onlyA]) m.dispose();
  });

  test('clear errors: unknown adapter, rank mismatch for linear, density rules, existing name, too large an SVD rank, bad weights', async () => {
    const run = (name: string, options: CombineOptions) => addWeightedAdapter(model, name, options);
    await expect(run('x', { adapters: ['a', 'zz'], weights: [1, 1] })).rejects.toThrow('combine "x": /adapters/1: no adapter named "zz"; allowed: a, b, c');
    await expect(run('x', { adapters: ['a', 'c'], weights: [1, 1], combination: 'linear' })).rejects.toThrow(
      'combine "x": /adapters: "linear" combines A\'s and B\'s directly, so every adapter needs the same rank at each site; site "proj" has r = 4 in "a", r = 2 in "c"',
    );
    await expect(run('x', { adapters: ['a', 'b'], weights: [1, 1], combination: 'ties' })).rejects.toThrow(
      'combine "x": /density: found undefined; "ties" needs a density in [0, 1]',
    );
    await expect(run('x', { adapters: ['a', 'b'], weights: [1, 1], combination: 'ties', density: 1.5 })).rejects.toThrow('/density: found 1.5');
    await expect(run('x', { adapters: ['a', 'b'], weights: [1, 1], combination: 'linear', density: 0.5 })).rejects.toThrow('/density: found 0.5 for "linear"');
    await expect(run('x', { adapters: ['a', 'b'], weights: [1, 1], combination: 'linear', majoritySign: 'frequency' })).rejects.toThrow(
      '/majoritySign: found "frequency" for "linear"',
    );
    await expect(run('b', { adapters: ['a'], weights: [1] })).rejects.toThrow('combine "b": /name: an adapter named "b" already exists');
    await expect(run('x', { adapters: ['a', 'b'], weights: [1, 1], svdRank: 11 })).rejects.toThrow(
      'combine "x": /svdRank: rank 11 exceeds min(fanIn, out) = 10 at site "proj"',
    );
    await expect(run('x', { adapters: ['a', 'b'], weights: [1, 1], combination: 'linear', svdClamp: 0.9 })).rejects.toThrow(
      'combine "x": /svdClamp: found 0.9 for "linear"; svdClamp is used by the svd types',
    );
    await expect(run('x', { adapters: ['a', 'b'], weights: [1, 1], svdClamp: 1.5 })).rejects.toThrow(
      'combine "x": /svdClamp: found 1.5; allowed: a quantile in [0, 1]',
    );
    await expect(run('x', { adapters: ['a', 'b'], weights: [1] })).rejects.toThrow(
      'combine "x": /weights: found [1]; allowed: 2 finite numbers, one per adapter',
    );
    await expect(run('x', { adapters: ['a', 'b'], weights: [1, 1], combination: 'mean' as CombinationType })).rejects.toThrow(
      '/combination: found "mean"; allowed: svd, linear, cat',
    );
    await expect(run('bad name', { adapters: ['a'], weights: [1] })).rejects.toThrow('/name: adapter name "bad name" is not allowed');
    expect(loraLayers(model).every(([, l]) => !l.adapter('x'))).toBe(true);
  });

  test("DARE without given masks: rankwise's seeded masks, the same for the same seed, different for another; kept fraction ≈ density", async () => {
    const fresh = await modelWithFixtures();
    const options: CombineOptions = { adapters: ['a', 'b'], weights: [1, 1], combination: 'dare_linear', density: 0.5 };
    await addWeightedAdapter(fresh, 's0', { ...options, seed: 11 });
    await addWeightedAdapter(fresh, 's1', { ...options, seed: 11 });
    await addWeightedAdapter(fresh, 's2', { ...options, seed: 12 });
    const layer = loraLayers(fresh).find(([p]) => p === 'head')![1];
    const [a0, a1, a2] = await Promise.all(['s0', 's1', 's2'].map((n) => values(layer.adapter(n)!.a)));
    expect(maxAbsDiff(a0, a1)).toBe(0);
    expect(maxAbsDiff(a0, a2)).toBeGreaterThan(0);
    // With one source the kept entries are exactly those the mask keeps: count them.
    await addWeightedAdapter(fresh, 'one', { adapters: ['a', 'b'], weights: [1, 0], combination: 'dare_linear', density: 0.5, seed: 3 });
    const kept = (await values(layer.adapter('one')!.a)).filter((v) => v !== 0).length;
    expect(kept / (10 * 4)).toBeGreaterThan(0.25);
    expect(kept / (10 * 4)).toBeLessThan(0.75);
    fresh.dispose();
  });

  test('no tensor leaks: a combination adds exactly its own A and B per site; the model disposes them', async () => {
    const fresh = await modelWithFixtures();
    const before = tf.memory().numTensors;
    const sites = await addWeightedAdapter(fresh, 'leak', { adapters: ['a', 'b', 'c'], weights: [1, 2, 3], combination: 'ties_svd', density: 0.5 });
    expect(tf.memory().numTensors).toBe(before + 2 * sites.length);
    fresh.dispose();
    expect(loraLayers(fresh).every(([, l]) => l instanceof LoraLayer && l.adapters().every((a) => a.a.isDisposed))).toBe(true);
  });
});
