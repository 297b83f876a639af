import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, test } from 'vitest';
import { freeze, injectLora, loadAdapter, saveAdapter, listSites, loadTfjsModel, parameterReport } from '@rankwise/core';
import { createOptimizer, sparseSoftmaxCrossEntropy, trainStep } from '@rankwise/core/training';
import { decodeSafetensors } from '@rankwise/formats';
import { LoraConv2d, LoraEmbedding, LoraLinear, loraLayers, mergeAdapters, unmergeAdapters, type LoraLayer } from '@rankwise/lora';
import type { TfjsLayersModel } from '@rankwise/models';
import { useTestBackend } from '../helpers/backend.js';
import { checkGradients } from '../helpers/finite-difference.js';
import { maxAbsDiff, normRelativeError, seededLabels, seededTensor, take, values } from '../helpers/numeric.js';
import { saveToTemp, seededIds, tinyCnn, tinyEmbeddingModel } from '../helpers/tfjs-models.js';

let cnnDir: string;
let embeddingDir: string;

beforeAll(async () => {
  await useTestBackend();
  const cnn = tinyCnn();
  cnnDir = await saveToTemp(cnn, 'tiny-cnn');
  cnn.dispose();
  const embedding = tinyEmbeddingModel();
  embeddingDir = await saveToTemp(embedding, 'tiny-embedding');
  embedding.dispose();
});

const every = (model: TfjsLayersModel, r: number, alpha = 2 * r) => listSites(model).map((s) => ({ path: s.path, r, alpha }));

/** Gives the factor that starts at zero (B; A for embeddings) random values, so the adapter changes outputs. */
function perturb(layers: LoraLayer[], seed: number): void {
  layers.forEach((layer, i) => {
    const target = layer instanceof LoraEmbedding ? layer.loraA : layer.loraB;
    const value = seededTensor(target.shape, seed + i, 0.5);
    target.assign(value);
    value.dispose();
  });
}

/** Everything frozen: parameters and BatchNorm statistics, by name. */
async function frozenState(model: TfjsLayersModel): Promise<Map<string, Float32Array>> {
  const entries = [...model.namedParameters(), ...model.namedBuffers()].filter(([name]) => !/lora_[AB]$/.test(name));
  return new Map(await Promise.all(entries.map(async ([name, v]) => [name, await values(v)] as const)));
}

describe('tfjs LayersModel sites', () => {
  test('sites: Conv2D [in channels, filters], Dense [in, units], Embedding [inputDim, outputDim], with layer index and role', async () => {
    const cnn = await loadTfjsModel(cnnDir);
    expect(listSites(cnn)).toEqual([
      { path: 'conv_a', inFeatures: 2, outFeatures: 3, layer: 0, role: 'conv2d', adapted: false },
      { path: 'conv_b', inFeatures: 3, outFeatures: 4, layer: 2, role: 'conv2d', adapted: false },
      { path: 'head', inFeatures: 64, outFeatures: 4, layer: 4, role: 'dense', adapted: false }, // 8×8 (same) → 4×4×4 after the stride-2 conv
    ]);
    const emb = await loadTfjsModel(embeddingDir);
    expect(listSites(emb).map((s) => [s.path, s.inFeatures, s.outFeatures, s.role])).toEqual([
      ['embed', 12, 6, 'embedding'],
      ['hidden', 30, 7, 'dense'],
      ['out', 7, 3, 'dense'],
    ]);
    // BatchNorm's gamma and beta are parameters; its moving statistics are buffers (never trained)
    expect(cnn.namedBuffers().map(([n]) => n)).toEqual(['bn.moving_mean', 'bn.moving_variance']);
    expect(parameterReport(cnn).total).toBe(3 * 3 * 2 * 3 + 3 + 2 * 3 + 2 * 2 * 3 * 4 + 4 + 64 * 4 + 4);
    cnn.dispose();
    emb.dispose();
  });

  test('the wrapped model computes what tfjs computes (probabilities after the softmax head; forward gives logits)', async () => {
    const reference = tinyCnn();
    const model = await loadTfjsModel(cnnDir);
    model.eval();
    const x = seededTensor([3, 8, 8, 2], 4);
    const expected = await take(reference.predict(x) as tf.Tensor);
    expect(normRelativeError(await take(model.predict(x)), expected)).toBeLessThan(1e-6);
    const logits = model.forward(x);
    expect(normRelativeError(await take(tf.softmax(logits)), expected)).toBeLessThan(1e-6);
    logits.dispose();
    tf.dispose([x]);
    reference.dispose();
    model.dispose();
  });

  for (const kind of ['cnn', 'embedding'] as const) {
    const load = () => loadTfjsModel(kind === 'cnn' ? cnnDir : embeddingDir);
    const input = (n: number, seed: number) => (kind === 'cnn' ? seededTensor([n, 8, 8, 2], seed) : seededIds(n, seed));

    test(`${kind}: a fresh adapter on every site leaves outputs bit-identical`, async () => {
      const model = await load();
      model.eval();
      const x = input(6, 11);
      const before = await take(model.forward(x));
      const layers = injectLora(model, every(model, 2), 3);
      expect(layers.map((l) => l.constructor)).toEqual(kind === 'cnn' ? [LoraConv2d, LoraConv2d, LoraLinear] : [LoraEmbedding, LoraLinear, LoraLinear]);
      expect(maxAbsDiff(await take(model.forward(x)), before)).toBe(0); // the zero factor makes the LoRA path add exact zeros
      x.dispose();
      model.dispose();
    });

    test(`${kind}: merged and unmerged outputs agree to 1e-5; unmerge restores the weights; no tensor leaks`, async () => {
      const model = await load();
      model.eval();
      const x = input(6, 12);
      const weightsBefore = await frozenState(model);
      perturb(injectLora(model, every(model, 2), 4), 40);
      const unmerged = await take(model.forward(x));
      const tensors = tf.memory().numTensors;
      expect(mergeAdapters(model)).toBe(3);
      const merged = await take(model.forward(x));
      expect(normRelativeError(merged, unmerged)).toBeLessThan(1e-5); // fp32 reassociation only
      expect(maxAbsDiff(merged, unmerged)).toBeGreaterThan(0); // it did merge: the path differs
      unmergeAdapters(model);
      expect(tf.memory().numTensors).toBe(tensors);
      const after = await frozenState(model);
      for (const [name, before] of weightsBefore)
        expect(maxAbsDiff(after.get(name.replace(/^(\w+)\.(weight|bias)$/, '$1.base.$2'))!, before), name).toBeLessThan(1e-6);
      x.dispose();
      model.dispose();
    });

    test(`${kind}: 12 Adam steps change only A and B; every frozen weight and BatchNorm statistic stays bit-identical`, async () => {
      const model = await load();
      freeze(model);
      injectLora(model, every(model, 2), 5);
      const before = await frozenState(model);
      const x = input(16, 13);
      const y = seededLabels(16, kind === 'cnn' ? 4 : 3, 2);
      const variables = model.trainableParameters();
      expect(variables.every((v) => /lora_[AB]$/.test(v.name))).toBe(true);
      const { optimizer } = createOptimizer({ name: 'adam', lr: 1e-2 });
      const loss = () => sparseSoftmaxCrossEntropy(model.forward(x), y);
      tf.dispose(trainStep({ loss, variables, optimizer })); // creates the optimizer's slots
      const tensors = tf.memory().numTensors;
      const losses: number[] = [];
      for (let step = 0; step < 11; step++) {
        const out = trainStep({ loss, variables, optimizer });
        losses.push((await out.loss.data())[0]);
        tf.dispose(out);
      }
      expect(tf.memory().numTensors).toBe(tensors);
      expect(losses[10]).toBeLessThan(losses[0]);
      const after = await frozenState(model);
      expect([...after.keys()].some((k) => k.includes('moving_mean'))).toBe(kind === 'cnn');
      for (const [name, value] of before) expect(maxAbsDiff(after.get(name)!, value), name).toBe(0);
      for (const [, layer] of loraLayers(model)) {
        expect(maxAbsDiff(await values(layer.loraA), new Float32Array(layer.loraA.size))).toBeGreaterThan(0);
      }
      optimizer.dispose();
      tf.dispose([x, y]);
      model.dispose();
    });

    test(`${kind}: the PEFT-layout adapter file loads back onto a fresh model: same factors, same outputs`, async () => {
      const model = await load();
      model.eval();
      const layers = injectLora(model, every(model, 2, 3), 6);
      perturb(layers, 80);
      const dir = join(await mkdtemp(join(tmpdir(), 'rankwise-tfjs-adapter-')), 'adapter');
      await saveAdapter(model, dir);
      const names = decodeSafetensors(await readFile(join(dir, 'adapter_model.safetensors'))).tensors;
      expect([...names.keys()].some((k) => k.endsWith(kind === 'cnn' ? 'conv_a.lora_A.weight' : 'embed.lora_embedding_A'))).toBe(true);
      const fresh = await load();
      fresh.eval();
      const loaded = await loadAdapter(fresh, dir);
      expect(loaded.map((l) => l.kind)).toEqual(layers.map((l) => l.kind));
      for (const [i, l] of loaded.entries()) {
        expect(maxAbsDiff(await values(l.loraA), await values(layers[i].loraA))).toBe(0); // transposes only: exact
        expect(maxAbsDiff(await values(l.loraB), await values(layers[i].loraB))).toBe(0);
      }
      const x = input(4, 15);
      expect(maxAbsDiff(await take(fresh.forward(x)), await take(model.forward(x)))).toBe(0);
      x.dispose();
      model.dispose();
      fresh.dispose();
    });

    test(`${kind}: gradients of A and B match central finite differences (relative error < 1e-2, fp32)`, async () => {
      const model = await load();
      model.eval();
      freeze(model);
      perturb(injectLora(model, every(model, 2, 2), 8), 60);
      const x = input(5, 14);
      const y = seededLabels(5, kind === 'cnn' ? 4 : 3, 3);
      const lossOf = () => sparseSoftmaxCrossEntropy(model.forward(x), y);
      const checks = await checkGradients(lossOf, model.trainableParameters(), (n) => [0, Math.floor(n / 2), n - 1]);
      for (const c of checks) expect(c.relativeError, `${c.name}[${c.index}] analytic ${c.analytic} numeric ${c.numeric}`).toBeLessThan(1e-2);
      expect(checks).toHaveLength(18); // 3 sites × (A, B) × 3 entries
      tf.dispose([x, y]);
      model.dispose();
    });
  }

  test('DoRA and PiSSA / OLoRA / gaussian inits are Linear-only: Conv2d and Embedding sites refuse them by name, and so does a PEFT adapter with use_dora on conv factors', async () => {
    const cnn = await loadTfjsModel(cnnDir);
    expect(() => injectLora(cnn, [{ path: 'conv_a', r: 2, alpha: 4, dora: true }], 1)).toThrow(
      'DoRA (dora: true) is supported on Linear sites only, not on Conv2d sites',
    );
    expect(() => injectLora(cnn, [{ path: 'conv_b', r: 2, alpha: 4, init: 'pissa' }], 1)).toThrow(
      'LoRA init "pissa" is supported on Linear sites only; Conv2d sites',
    );
    const emb = await loadTfjsModel(embeddingDir);
    expect(() => injectLora(emb, [{ path: 'embed', r: 2, alpha: 4, init: 'gaussian' }], 1)).toThrow(
      'LoRA init "gaussian" is supported on Linear sites only; Embedding sites',
    );
    // a Dense site of the same model takes DoRA
    const [dense] = injectLora(emb, [{ path: 'hidden', r: 2, alpha: 4, dora: true }], 1);
    expect(dense).toBeInstanceOf(LoraLinear);
    expect(dense.magnitude?.shape).toEqual([7]);

    const model = await loadTfjsModel(cnnDir);
    injectLora(model, [{ path: 'conv_a', r: 2, alpha: 4 }], 1);
    const dir = join(await mkdtemp(join(tmpdir(), 'rankwise-tfjs-dora-conv-')), 'adapter');
    await saveAdapter(model, dir);
    const configFile = join(dir, 'adapter_config.json');
    const config = JSON.parse(await readFile(configFile, 'utf8')) as Record<string, unknown>;
    await writeFile(configFile, JSON.stringify({ ...config, use_dora: true }));
    const fresh = await loadTfjsModel(cnnDir);
    await expect(loadAdapter(fresh, dir)).rejects.toThrow(
      `${configFile}: "use_dora": true, but site "conv_a" holds conv2d factors; rankwise supports DoRA and PiSSA / OLoRA on Linear sites only`,
    );
    for (const m of [cnn, emb, model, fresh]) m.dispose();
  });

  test('conv2d LoRA: A is a convolution with the kernel geometry (fan_in = kh·kw·in), B a 1×1 convolution; ΔW = scaling·A·B', async () => {
    const model = await loadTfjsModel(cnnDir);
    const [conv] = injectLora(model, [{ path: 'conv_b', r: 3, alpha: 6 }], 9) as LoraConv2d[];
    expect(conv.loraA.shape).toEqual([2 * 2 * 3, 3]);
    expect(conv.loraB.shape).toEqual([3, 4]);
    const bound = 1 / Math.sqrt(2 * 2 * 3); // PyTorch's kaiming_uniform_(a=√5) on a Conv2d weight: 1/√fan_in
    expect(Math.max(...(await values(conv.loraA)).map(Math.abs))).toBeLessThanOrEqual(bound);
    perturb([conv], 70);
    // The delta as a kernel equals the response of the LoRA path to a single-pixel input, read off per tap.
    const delta = await take(conv.delta());
    const a4 = await take(conv.kernelA());
    const b = await values(conv.loraB);
    const expected = new Float32Array(2 * 2 * 3 * 4);
    for (let t = 0; t < 12; t++) for (let o = 0; o < 4; o++) for (let r = 0; r < 3; r++) expected[t * 4 + o] += 2 * a4[t * 3 + r] * b[r * 4 + o];
    expect(maxAbsDiff(delta, expected)).toBeLessThan(1e-6);
    model.dispose();
  });
});
