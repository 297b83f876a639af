import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { addWeightedAdapter, freeze, injectLora, loadAdapter, mergeAndUnload, Mlp, readSafetensorsFile, saveAdapter } from '@rankwise/core';
import { createOptimizer, sparseSoftmaxCrossEntropy, trainStep } from '@rankwise/core/training';
import { ADAPTER_CONFIG, ADAPTER_WEIGHTS, encodeSafetensors, readAdapter } from '@rankwise/formats';
import {
  BUILTIN_LORA_INITS,
  BUILTIN_LORA_VARIANTS,
  LORA_VARIANT_OPTION_KEYS,
  loraLayers,
  loraVariants,
  mergeAdapters,
  registerLoraVariant,
  unmergeAdapters,
  unregisterLoraVariant,
  type LoraLayer,
} from '@rankwise/lora';
import { useTestBackend } from '../helpers/backend.js';
import { maxAbsDiff, seededLabels, seededTensor, take, values } from '../helpers/numeric.js';
import { gatedLora } from '../fixtures/variants/gated-lora.js';

// A toy variant added from outside core, as a contributor would: one file (test/fixtures/variants/gated-lora.ts) and
// one registration. Injected, trained, merged, saved and loaded without any other change.
beforeAll(async () => {
  await useTestBackend();
  registerLoraVariant(gatedLora);
});
afterAll(() => unregisterLoraVariant(gatedLora.name));

const SIZES = [12, 10, 4];

/** A model with the gated variant at both Linear sites, B random (so ΔW ≠ 0) and the gates at `gates`. */
function gatedModel(gates: [number, number]): Mlp {
  const model = new Mlp({ sizes: SIZES }, 1);
  freeze(model);
  injectLora(
    model,
    [
      { path: 'layers.0', r: 2, alpha: 4, variant: 'gated' },
      { path: 'layers.1', r: 3, alpha: 3, variant: 'gated' },
    ],
    7,
  );
  loraLayers(model).forEach(([, layer], i) => setFactors(layer, 11 + i, gates[i]));
  return model;
}

const layerAt = (model: Mlp, path: string): LoraLayer => model.getSubmodule(path) as LoraLayer;

function setFactors(layer: LoraLayer, seed: number, gate: number | null): void {
  tf.tidy(() => {
    layer.loraB.assign(seededTensor(layer.loraB.shape, seed, 0.3));
    if (gate !== null) layer.adapter('default')!.extras.lora_gate.assign(tf.tensor1d([gate]));
  });
}

describe('a toy LoRA variant registered from a test file (ΔW = g·s·A·B, g learned)', () => {
  test('injected: its tensor is a parameter next to A and B, and outputs equal plain LoRA with g folded into B', async () => {
    const before = tf.memory().numTensors;
    const model = gatedModel([0.5, -1.5]);
    expect(loraLayers(model).map(([, l]) => l.variant)).toEqual(['gated', 'gated']);
    expect(model.trainableParameters().map((p) => p.name.replace(/^rw\d+\//, ''))).toEqual(['lora_A', 'lora_B', 'lora_gate', 'lora_A', 'lora_B', 'lora_gate']);
    // Reference: plain LoRA with the same A and B' = g·B computes g·s·A·B too.
    const plain = new Mlp({ sizes: SIZES }, 1);
    freeze(plain);
    injectLora(
      plain,
      [
        { path: 'layers.0', r: 2, alpha: 4 },
        { path: 'layers.1', r: 3, alpha: 3 },
      ],
      7,
    );
    loraLayers(plain).forEach(([, layer], i) => {
      setFactors(layer, 11 + i, null);
      tf.tidy(() => layer.loraB.assign(layer.loraB.mul([0.5, -1.5][i])));
    });
    expect(loraLayers(plain).map(([, l]) => l.variant)).toEqual(['lora', 'lora']);
    const x = seededTensor([6, 12], 3);
    const gated = await take(model.forward(x));
    const reference = await take(plain.forward(x));
    expect(maxAbsDiff(gated, reference)).toBeLessThan(1e-6);
    const base = new Mlp({ sizes: SIZES }, 1);
    expect(maxAbsDiff(gated, await take(base.forward(x)))).toBeGreaterThan(1e-2); // the update is not zero
    x.dispose();
    for (const m of [model, plain, base]) m.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  test('one SGD step moves g by −lr·∂L/∂g, ∂L/∂g matching a central finite difference to 1e-3', async () => {
    const model = gatedModel([1, 1]);
    const variables = model.trainableParameters();
    const x = seededTensor([16, 12], 5);
    const y = seededLabels(16, 4, 6);
    const gate = loraLayers(model)[1][1].adapter('default')!.extras.lora_gate;
    const lossAt = async (g: number): Promise<number> => {
      tf.tidy(() => gate.assign(tf.tensor1d([g])));
      return (await take(tf.tidy(() => sparseSoftmaxCrossEntropy(model.forward(x), y))))[0];
    };
    const h = 1e-2;
    const numeric = ((await lossAt(1 + h)) - (await lossAt(1 - h))) / (2 * h);
    await lossAt(1);
    const lr = 0.1;
    const { optimizer } = createOptimizer({ name: 'sgd', lr });
    const frozen = await values(layerAt(model, 'layers.1').base.weight);
    tf.dispose(trainStep({ loss: () => sparseSoftmaxCrossEntropy(model.forward(x), y), variables, optimizer }));
    const analytic = (1 - (await values(gate))[0]) / lr;
    expect(Math.abs(numeric)).toBeGreaterThan(1e-3); // the gate matters to the loss
    expect(Math.abs(analytic - numeric)).toBeLessThan(1e-3 * Math.max(1, Math.abs(numeric)));
    expect(maxAbsDiff(await values(layerAt(model, 'layers.1').base.weight), frozen)).toBe(0);
    optimizer.dispose();
    tf.dispose([x, y]);
    model.dispose();
  });

  test('merged: W + g·s·A·B gives the same outputs; unmerge restores W to 1e-6; merge_and_unload leaves plain Linears', async () => {
    const model = gatedModel([0.75, 2]);
    const x = seededTensor([6, 12], 4);
    const adapted = await take(model.forward(x));
    const w0 = await values(layerAt(model, 'layers.0').base.weight);
    mergeAdapters(model);
    expect(maxAbsDiff(await take(model.forward(x)), adapted)).toBeLessThan(1e-5);
    const layer = layerAt(model, 'layers.0');
    const expected = await take(tf.tidy(() => tf.tensor(w0, layer.base.weight.shape).add(tf.matMul(layer.loraA, layer.loraB).mul(layer.scaling * 0.75))));
    expect(maxAbsDiff(await values(layer.base.weight), expected)).toBeLessThan(1e-6);
    unmergeAdapters(model);
    expect(maxAbsDiff(await values(layer.base.weight), w0)).toBeLessThan(1e-6);
    mergeAndUnload(model);
    expect(loraLayers(model)).toEqual([]);
    expect(maxAbsDiff(await take(model.forward(x)), adapted)).toBeLessThan(1e-5);
    x.dispose();
    model.dispose();
  });

  test('saved in PEFT layout (lora_gate [1], use_gate) and loaded back bit-identically; a wrong gate shape is refused by name', async () => {
    const model = gatedModel([0.5, 3]);
    const x = seededTensor([5, 12], 3);
    const outputs = await take(model.forward(x));
    const dir = await mkdtemp(join(tmpdir(), 'rankwise-gated-'));
    await saveAdapter(model, dir);
    const config = JSON.parse(await readFile(join(dir, ADAPTER_CONFIG), 'utf8'));
    expect([config.use_gate, config.use_dora]).toEqual([true, false]);
    const { tensors } = await readSafetensorsFile(join(dir, ADAPTER_WEIGHTS));
    expect([...tensors.keys()].filter((k) => k.endsWith('lora_gate'))).toEqual(['base_model.model.layers.0.lora_gate', 'base_model.model.layers.1.lora_gate']);
    expect([...(tensors.get('base_model.model.layers.1.lora_gate')?.data ?? [])]).toEqual([3]);
    const fresh = new Mlp({ sizes: SIZES }, 1);
    const loaded = await loadAdapter(fresh, dir);
    expect(loaded.map((l) => l.variant)).toEqual(['gated', 'gated']);
    expect(maxAbsDiff(await take(fresh.forward(x)), outputs)).toBe(0);
    expect((await readAdapter(dir)).map((s) => [s.variant, [...s.extras.lora_gate]])).toEqual([
      ['gated', [0.5]],
      ['gated', [3]],
    ]);

    // The same file with one gate of shape [2]: named with the tensor, the shape found and the one allowed.
    const bad = await mkdtemp(join(tmpdir(), 'rankwise-gated-bad-'));
    const entries = [...tensors].map(([name, t]) => ({
      name,
      shape: name.endsWith('layers.1.lora_gate') ? [2] : t.shape,
      data: name.endsWith('layers.1.lora_gate') ? new Float32Array([1, 1]) : t.data,
    }));
    await writeFile(join(bad, ADAPTER_WEIGHTS), encodeSafetensors(entries));
    await writeFile(join(bad, ADAPTER_CONFIG), JSON.stringify(config));
    await expect(readAdapter(bad)).rejects.toThrow(
      `${join(bad, ADAPTER_WEIGHTS)}: tensor "base_model.model.layers.1.lora_gate": shape [2], expected [1] (a gate on the update)`,
    );
    // Without use_gate in the config the gates are not this adapter's.
    await writeFile(join(bad, ADAPTER_CONFIG), JSON.stringify({ ...config, use_gate: false }));
    await expect(readAdapter(bad)).rejects.toThrow(
      `tensor "base_model.model.layers.0.lora_gate" is a gate on the update (gated LoRA) but ${join(bad, ADAPTER_CONFIG)} does not set "use_gate": true`,
    );
    x.dispose();
    model.dispose();
    fresh.dispose();
  });

  test('combining adapters refuses it by its label (its gate would be left behind)', async () => {
    const model = gatedModel([1, 1]);
    injectLora(model, [{ path: 'layers.0', r: 2, alpha: 4 }], 8, 'plain');
    await expect(addWeightedAdapter(model, 'mix', { adapters: ['default', 'plain'], weights: [1, 1], combination: 'cat' })).rejects.toThrow(
      'adapter "default" uses gated LoRA (site "layers.0"); combining gated LoRA adapters is not supported',
    );
    model.dispose();
  });

  test('registration refuses a second variant with the same name or tensor; unknown and conflicting selections are named', () => {
    expect(() => registerLoraVariant({ ...gatedLora })).toThrow('LoRA variant "gated": name "gated" is already used by variant "gated"');
    expect(() => registerLoraVariant({ ...gatedLora, name: 'gated2', peft: null })).toThrow('tensor "lora_gate" is already used by variant "gated"');
    expect(() => injectLora(new Mlp({ sizes: SIZES }, 1), [{ path: 'layers.0', r: 2, alpha: 2, variant: 'nope' }], 0)).toThrow(
      'LoRA variant "nope" is not registered; registered: lora, dora, gated',
    );
    expect(() => injectLora(new Mlp({ sizes: SIZES }, 1), [{ path: 'layers.0', r: 2, alpha: 2, variant: 'gated', dora: true }], 0)).toThrow(
      'LoRA options select several variants (gated LoRA, DoRA)',
    );
  });
});

describe('the built-in variants and inits are one list each, and the schema follows it', () => {
  const schema = JSON.parse(readFileSync('packages/core/schema/pipeline.schema.json', 'utf8'));
  const text = JSON.stringify(schema);

  test('the registry lists plain LoRA and DoRA; kaiming, gaussian, PiSSA, OLoRA; the grid keys follow', () => {
    expect(BUILTIN_LORA_VARIANTS.map((v) => v.name)).toEqual(['lora', 'dora']);
    expect(loraVariants().map((v) => v.name)).toEqual(['lora', 'dora', 'gated']);
    expect(BUILTIN_LORA_INITS.map((i) => [i.name, i.peftValue, 'fromBase' in i])).toEqual([
      ['kaiming', true, false],
      ['gaussian', 'gaussian', false],
      ['pissa', 'pissa', true],
      ['olora', 'olora', true],
    ]);
    expect(LORA_VARIANT_OPTION_KEYS).toEqual(['rslora', 'dora', 'init']);
  });

  test('every built-in variant option and init appears in the generated pipeline schema with its description', () => {
    for (const v of BUILTIN_LORA_VARIANTS) if (v.option) expect(text).toContain(JSON.stringify(v.option.description));
    for (const v of BUILTIN_LORA_VARIANTS) if (v.option) expect(text).toContain(JSON.stringify(v.option.gridDescription));
    for (const i of BUILTIN_LORA_INITS) expect(text).toContain(`${i.name} (${i.description})`);
  });
});

test('docs/lora-variants.md shows the toy variant exactly as the file this test registers', () => {
  const doc = readFileSync('docs/lora-variants.md', 'utf8');
  const block = /```ts\n([\s\S]*?)```/.exec(doc);
  expect(block?.[1]).toBe(readFileSync('test/fixtures/variants/gated-lora.ts', 'utf8'));
});
