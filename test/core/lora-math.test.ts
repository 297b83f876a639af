import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, test } from 'vitest';
import { freeze, injectLora, listSites, mergeAndUnload, Mlp, parameterReport } from '@rankwise/core';
import { createOptimizer, sparseSoftmaxCrossEntropy, trainStep } from '@rankwise/core/training';
import { LoraLinear, loraLayers, mergeAdapters, unmergeAdapters } from '@rankwise/lora';
import { useTestBackend } from '../helpers/backend.js';
import { checkGradients } from '../helpers/finite-difference.js';
import { maxAbsDiff, normRelativeError, seededLabels, seededTensor, take, values } from '../helpers/numeric.js';

beforeAll(async () => {
  await useTestBackend();
});

const allLinear = (model: Mlp, r: number, alpha = 2 * r) => listSites(model).map((s) => ({ path: s.path, r, alpha }));

/** Gives every B random values so the adapter actually changes outputs. */
function randomizeB(model: Mlp, seed: number): void {
  loraLayers(model).forEach(([, layer], i) => {
    const b = seededTensor(layer.loraB.shape, seed + i, 0.5);
    layer.loraB.assign(b);
    b.dispose();
  });
}

describe('LoRA injection', () => {
  test('zero init: outputs right after inject equal the base model exactly', async () => {
    const model = new Mlp({ sizes: [20, 16, 16, 5] }, 1);
    const x = seededTensor([8, 20], 11);
    const before = await take(model.forward(x));
    injectLora(model, allLinear(model, 4), 3);
    const after = await take(model.forward(x));
    expect(maxAbsDiff(after, before)).toBe(0); // B = 0 ⇒ the LoRA path adds exact zeros
    x.dispose();
    model.dispose();
  });

  test('A is Kaiming-uniform in ±1/sqrt(in), B is zero, scaling alpha/r or alpha/sqrt(r)', async () => {
    const model = new Mlp({ sizes: [64, 32, 4] }, 2);
    const [a, b] = injectLora(
      model,
      [
        { path: 'layers.0', r: 8, alpha: 16 },
        { path: 'layers.1', r: 4, alpha: 8, rslora: true },
      ],
      5,
    );
    const aValues = await values(a.loraA);
    const bound = 1 / Math.sqrt(64);
    expect(Math.max(...aValues.map(Math.abs))).toBeLessThanOrEqual(bound);
    // a uniform on ±bound has std bound/√3; 512 samples put the sample std within 10 %
    const std = Math.sqrt(aValues.reduce((s, v) => s + v * v, 0) / aValues.length);
    expect(Math.abs(std - bound / Math.sqrt(3)) / (bound / Math.sqrt(3))).toBeLessThan(0.1);
    expect(maxAbsDiff(await values(a.loraB), new Float32Array(8 * 32))).toBe(0);
    expect(a.scaling).toBe(2);
    expect(b.scaling).toBe(8 / 2);
    expect(a.loraA.shape).toEqual([64, 8]);
    expect(a.loraB.shape).toEqual([8, 32]);
    model.dispose();
  });

  test('same seed gives the same A regardless of which other sites are adapted', async () => {
    const m1 = new Mlp({ sizes: [10, 8, 8, 3] }, 4);
    const m2 = new Mlp({ sizes: [10, 8, 8, 3] }, 4);
    const [first] = injectLora(m1, [{ path: 'layers.1', r: 2, alpha: 4 }], 9);
    const layers = injectLora(m2, allLinear(m2, 2), 9);
    expect(maxAbsDiff(await values(first.loraA), await values(layers[1].loraA))).toBe(0);
    m1.dispose();
    m2.dispose();
  });

  test('trainable parameter count is Σ r·(in+out) and the report matches PEFT', () => {
    const model = new Mlp({ sizes: [784, 256, 256, 10] }, 0);
    freeze(model);
    injectLora(model, allLinear(model, 8, 16), 0);
    const expected = 8 * (784 + 256) + 8 * (256 + 256) + 8 * (256 + 10); // 14,544
    const report = parameterReport(model);
    expect(report.trainable).toBe(expected);
    // base: 784·256+256 + 256·256+256 + 256·10+10 = 269,322; PEFT counts the adapters in "all params"
    expect(report.total).toBe(269_322 + expected);
    // PEFT formats 100·t/all with 4 decimals: 100 · 14,544 / 283,866 = 5.12354… → "5.1235"
    expect(report.text).toBe('trainable params: 14,544 || all params: 283,866 || trainable%: 5.1235');
    model.dispose();
  });

  test('bad targets are errors naming the available sites', () => {
    const model = new Mlp({ sizes: [4, 3, 2] }, 0);
    expect(() => injectLora(model, [{ path: 'layers.7', r: 2, alpha: 2 }], 0)).toThrow('target "layers.7" not found; available sites: layers.0, layers.1');
    expect(() => injectLora(model, [{ path: 'layers.0', r: 0, alpha: 2 }], 0)).toThrow('rank r must be a positive integer, got 0');
    injectLora(model, [{ path: 'layers.0', r: 1, alpha: 1 }], 0);
    expect(() => injectLora(model, [{ path: 'layers.0', r: 1, alpha: 1 }], 0)).toThrow('already has a LoRA adapter');
    model.dispose();
  });
});

describe('merge', () => {
  test('merged vs unmerged outputs agree to 1e-5 relative; unmerge restores W to 1e-6', async () => {
    const model = new Mlp({ sizes: [32, 24, 24, 6] }, 7);
    const x = seededTensor([16, 32], 21);
    const weightsBefore = await Promise.all(listSites(model).map((s) => values((model.getSubmodule(s.path) as unknown as { weight: tf.Variable }).weight)));
    injectLora(model, allLinear(model, 4, 8), 1);
    randomizeB(model, 100);
    const unmerged = await take(model.forward(x));
    expect(mergeAdapters(model)).toBe(3);
    const merged = await take(model.forward(x));
    expect(normRelativeError(merged, unmerged)).toBeLessThan(1e-5); // fp32 reassociation only
    unmergeAdapters(model);
    const restored = await Promise.all(loraLayers(model).map(([, l]) => values(l.base.weight)));
    restored.forEach((w, i) => expect(maxAbsDiff(w, weightsBefore[i])).toBeLessThan(1e-6));
    x.dispose();
    model.dispose();
  });

  test('mergeAndUnload gives a plain model with the same outputs and no adapter tensors', async () => {
    const model = new Mlp({ sizes: [12, 10, 4] }, 3);
    const x = seededTensor([5, 12], 2);
    injectLora(model, allLinear(model, 3), 2);
    randomizeB(model, 7);
    const unmerged = await take(model.forward(x));
    const tensorsBefore = tf.memory().numTensors;
    expect(mergeAndUnload(model)).toBe(2);
    expect(tf.memory().numTensors).toBe(tensorsBefore - 4); // two A and two B disposed
    expect(loraLayers(model)).toHaveLength(0);
    expect(listSites(model).every((s) => !s.adapted)).toBe(true);
    expect(normRelativeError(await take(model.forward(x)), unmerged)).toBeLessThan(1e-5);
    x.dispose();
    model.dispose();
  });
});

describe('training', () => {
  test('20 Adam steps change only A and B; frozen W and biases stay bit-identical; no tensor leaks', async () => {
    const model = new Mlp({ sizes: [20, 16, 16, 5] }, 5);
    const frozenBefore = await Promise.all(model.parameters().map(async (p) => [p.name, await values(p)] as const));
    freeze(model);
    injectLora(model, allLinear(model, 4), 5);
    const x = seededTensor([32, 20], 3);
    const y = seededLabels(32, 5, 4);
    const { optimizer } = createOptimizer({ name: 'adam', lr: 1e-2 });
    const variables = model.trainableParameters();
    expect(variables.every((v) => /lora_[AB]$/.test(v.name))).toBe(true);
    const aBefore = await Promise.all(loraLayers(model).map(([, l]) => values(l.loraA)));
    // Warm up one step so the optimizer's slot variables exist before counting tensors.
    tf.dispose(trainStep({ loss: () => sparseSoftmaxCrossEntropy(model.forward(x), y), variables, optimizer }));
    const tensors = tf.memory().numTensors;
    const losses: number[] = [];
    for (let step = 0; step < 19; step++) {
      const out = trainStep({ loss: () => sparseSoftmaxCrossEntropy(model.forward(x), y), variables, optimizer });
      losses.push((await out.loss.data())[0]);
      tf.dispose(out);
    }
    expect(tf.memory().numTensors).toBe(tensors);
    expect(losses[18]).toBeLessThan(losses[0]);
    for (const [name, before] of frozenBefore) {
      const variable = model.parameters().find((p) => p.name === name)!;
      expect(maxAbsDiff(await values(variable), before)).toBe(0);
    }
    const aAfter = await Promise.all(loraLayers(model).map(([, l]) => values(l.loraA)));
    aAfter.forEach((a, i) => expect(maxAbsDiff(a, aBefore[i])).toBeGreaterThan(0));
    for (const [, layer] of loraLayers(model)) expect(maxAbsDiff(await values(layer.loraB), new Float32Array(layer.loraB.size))).toBeGreaterThan(0);
    optimizer.dispose();
    x.dispose();
    y.dispose();
    model.dispose();
  });

  test('no gradient work for frozen weights: no matmul of a LoRA step outputs a W-shaped [in, out] tensor', async () => {
    const model = new Mlp({ sizes: [20, 16, 12, 5] }, 5);
    freeze(model);
    injectLora(model, allLinear(model, 3), 5);
    const x = seededTensor([32, 20], 3);
    const y = seededLabels(32, 5, 4);
    const variables = model.trainableParameters();
    const profile = await tf.profile(() => {
      const { value, grads } = tf.variableGrads(() => sparseSoftmaxCrossEntropy(model.forward(x), y), variables);
      tf.dispose([value, ...Object.values(grads)]);
    });
    const matmuls = profile.kernels.filter((k) => /MatMul/.test(k.name)); // Identity/Reshape views of W are free
    const squeeze = (shape: number[]) => shape.slice(shape.findIndex((d) => d !== 1)).join('x'); // [1, 20, 16] → 20x16
    const shapes = matmuls.flatMap((k) => k.outputShapes.map((s) => squeeze(s ?? [])));
    expect(shapes).toContain('20x3'); // dA of the first site: the LoRA gradients are there…
    for (const frozen of ['20x16', '16x12', '12x5']) expect(shapes).not.toContain(frozen); // …but no dW = xᵀ·dy
    tf.dispose([x, y]);
    model.dispose();
  });

  test('merge and unmerge leak no tensors', async () => {
    const model = new Mlp({ sizes: [8, 6, 3] }, 1);
    injectLora(model, allLinear(model, 2), 1);
    const tensors = tf.memory().numTensors;
    mergeAdapters(model);
    unmergeAdapters(model);
    expect(tf.memory().numTensors).toBe(tensors);
    model.dispose();
  });

  test('gradients of A and B match central finite differences (relative error < 1e-2, fp32)', async () => {
    // tanh keeps the loss smooth so finite differences are meaningful; ε = 1e-2 balances truncation and fp32 rounding.
    const model = new Mlp({ sizes: [6, 5, 4], activation: 'tanh' }, 8);
    freeze(model);
    injectLora(model, allLinear(model, 2, 2), 8);
    randomizeB(model, 31);
    const x = seededTensor([7, 6], 5, 2);
    const y = seededLabels(7, 4, 6);
    const lossOf = () => sparseSoftmaxCrossEntropy(model.forward(x), y);
    const checks = await checkGradients(lossOf, model.trainableParameters(), (n) => [0, Math.floor(n / 2), n - 1]);
    for (const c of checks) expect(c.relativeError, `${c.name}[${c.index}] analytic ${c.analytic} numeric ${c.numeric}`).toBeLessThan(1e-2);
    const checked = checks.length;
    expect(checked).toBe(12); // 2 sites × (A, B) × 3 entries
    x.dispose();
    y.dispose();
    model.dispose();
  });

  test('dropout acts on the LoRA path in training only', async () => {
    const model = new Mlp({ sizes: [16, 8] }, 2);
    const [layer] = injectLora(model, [{ path: 'layers.0', r: 4, alpha: 4, dropout: 0.5 }], 2);
    randomizeB(model, 3);
    const x = seededTensor([4, 16], 9);
    model.eval();
    const e1 = await take(model.forward(x));
    const e2 = await take(model.forward(x));
    expect(maxAbsDiff(e1, e2)).toBe(0);
    model.train();
    const t1 = await take(model.forward(x));
    expect(maxAbsDiff(t1, e1)).toBeGreaterThan(1e-4);
    expect(layer).toBeInstanceOf(LoraLinear);
    x.dispose();
    model.dispose();
  });
});
