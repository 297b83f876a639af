import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { injectLora, listSites, loadAdapter, Mlp, readSafetensorsFile, saveAdapter } from '@rankwise/core';
import { ADAPTER_CONFIG, ADAPTER_WEIGHTS, encodeSafetensors, readAdapter } from '@rankwise/formats';
import { loraLayers } from '@rankwise/lora';
import { useTestBackend } from '../helpers/backend.js';
import { maxAbsDiff, seededTensor, take } from '../helpers/numeric.js';

beforeAll(async () => {
  await useTestBackend();
});

const SIZES = [12, 10, 8, 4];

/** A model with LoRA on its first two layers and random B (so the adapter changes outputs), saved to a fresh directory. */
async function savedAdapter(): Promise<{ dir: string; outputs: Float32Array }> {
  const model = new Mlp({ sizes: SIZES }, 1);
  injectLora(
    model,
    [
      { path: 'layers.0', r: 2, alpha: 4 },
      { path: 'layers.1', r: 3, alpha: 3, rslora: true },
    ],
    2,
  );
  loraLayers(model).forEach(([, layer], i) => {
    const b = seededTensor(layer.loraB.shape, 10 + i, 0.5);
    layer.loraB.assign(b);
    b.dispose();
  });
  const dir = await mkdtemp(join(tmpdir(), 'rankwise-peft-'));
  await saveAdapter(model, dir);
  const x = seededTensor([5, SIZES[0]], 3);
  const outputs = await take(model.forward(x));
  x.dispose();
  model.dispose();
  return { dir, outputs };
}

async function outputsWith(dir: string): Promise<Float32Array> {
  const model = new Mlp({ sizes: SIZES }, 1);
  await loadAdapter(model, dir);
  const x = seededTensor([5, SIZES[0]], 3);
  const out = await take(model.forward(x));
  x.dispose();
  model.dispose();
  return out;
}

/** The same adapter with its tensors renamed (order and values kept; those renamed to null are left out). */
async function renamedCopy(dir: string, rename: (name: string) => string | null): Promise<string> {
  const copy = await mkdtemp(join(tmpdir(), 'rankwise-peft-renamed-'));
  const { tensors } = await readSafetensorsFile(join(dir, ADAPTER_WEIGHTS));
  const named = [...tensors].flatMap(([name, t]) => {
    const renamed = rename(name);
    return renamed === null ? [] : [{ name: renamed, shape: t.shape, data: t.data }];
  });
  await writeFile(join(copy, ADAPTER_WEIGHTS), encodeSafetensors(named));
  await writeFile(join(copy, ADAPTER_CONFIG), await readFile(join(dir, ADAPTER_CONFIG)));
  return copy;
}

describe('loadAdapter', () => {
  test('an adapter saved by rankwise loads back with the same outputs', async () => {
    const { dir, outputs } = await savedAdapter();
    expect(maxAbsDiff(await outputsWith(dir), outputs)).toBe(0);
  });

  test("keys with PEFT's .default infix (<site>.lora_A.default.weight) load and give the same outputs", async () => {
    const { dir, outputs } = await savedAdapter();
    const peft = await renamedCopy(dir, (name) => name.replace(/\.lora_([AB])\.weight$/, '.lora_$1.default.weight'));
    const { tensors } = await readSafetensorsFile(join(peft, ADAPTER_WEIGHTS));
    expect([...tensors.keys()]).toContain('base_model.model.layers.0.lora_A.default.weight');
    expect(maxAbsDiff(await outputsWith(peft), outputs)).toBe(0);
  });

  test('a lora_A without its lora_B, a lora_B without its lora_A, and two lora_A of one site are named', async () => {
    const { dir } = await savedAdapter();
    const fresh = () => new Mlp({ sizes: SIZES }, 1);
    const noB = await renamedCopy(dir, (name) => (name.includes('layers.1.lora_B') ? null : name));
    await expect(loadAdapter(fresh(), noB)).rejects.toThrow(`${join(noB, ADAPTER_WEIGHTS)}: site "layers.1" has lora_A but no lora_B`);
    const noA = await renamedCopy(dir, (name) => (name.includes('layers.1.lora_A') ? null : name));
    await expect(loadAdapter(fresh(), noA)).rejects.toThrow(
      `${join(noA, ADAPTER_WEIGHTS)}: tensor "base_model.model.layers.1.lora_B.weight" has no matching lora_A`,
    );
    const twice = await renamedCopy(dir, (name) =>
      name.replace('layers.1.lora_A', 'layers.0.lora_A.default').replace('layers.1.lora_B', 'layers.0.lora_B.default'),
    );
    await expect(loadAdapter(fresh(), twice)).rejects.toThrow(
      'tensors "base_model.model.layers.0.lora_A.weight" and "base_model.model.layers.0.lora_A.default.weight" are both lora_A of site "layers.0"',
    );
  });

  test('readAdapter without a model: sites in file order, settings from the config, factors as stored; with one, checked against its sites', async () => {
    const { dir } = await savedAdapter();
    const sites = await readAdapter(dir);
    expect(sites.map(({ path, r, alpha, rslora, dropout, inFeatures, outFeatures }) => ({ path, r, alpha, rslora, dropout, inFeatures, outFeatures }))).toEqual(
      [
        { path: 'layers.0', r: 2, alpha: 4, rslora: false, dropout: 0, inFeatures: 12, outFeatures: 10 },
        { path: 'layers.1', r: 3, alpha: 3, rslora: true, dropout: 0, inFeatures: 10, outFeatures: 8 },
      ],
    );
    const { tensors } = await readSafetensorsFile(join(dir, ADAPTER_WEIGHTS));
    expect(sites[0].loraA).toEqual(tensors.get('base_model.model.layers.0.lora_A.weight')?.data); // [r, in]
    expect(sites[1].loraB).toEqual(tensors.get('base_model.model.layers.1.lora_B.weight')?.data); // [out, r]
    expect(await readAdapter(dir, listSites(new Mlp({ sizes: SIZES }, 1)))).toEqual(sites);
    await expect(readAdapter(dir, listSites(new Mlp({ sizes: [7, 10, 8, 4] }, 1)))).rejects.toThrow(
      'tensor "base_model.model.layers.0.lora_A.weight": shape [2, 12], the model expects [r, 7]',
    );
  });
});
