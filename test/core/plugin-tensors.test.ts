import * as tf from '@tensorflow/tfjs';
import { beforeAll, expect, test } from 'vitest';
import { createModel, injectLora, isLoraModule, loraModules, readLoraDelta, readLoraFactors, type LoraModuleLike, type ModelLike } from '@rankwise/core';
import { loraLayers } from '@rankwise/lora';
import { useTestBackend } from '../helpers/backend.js';
import { seededTensor } from '../helpers/numeric.js';

// The plugin entry's tensor readers (types/tensors.ts) on a real model: they go through the model's own methods
// (no TensorFlow.js import of their own) and must give the factors and ΔW = scaling·A·B exactly as the layers hold them.
beforeAll(async () => {
  await useTestBackend('cpu');
});

/** scaling·A·B in float64 from A [fanIn, r] and B [r, out]: [fanIn, out]. */
function hostDelta(a: Float32Array, b: Float32Array, fanIn: number, r: number, out: number, scaling: number): Float64Array {
  const d = new Float64Array(fanIn * out);
  for (let i = 0; i < fanIn; i++)
    for (let o = 0; o < out; o++) {
      let s = 0;
      for (let k = 0; k < r; k++) s += a[i * r + k] * b[k * out + o];
      d[i * out + o] = scaling * s;
    }
  return d;
}

test("readLoraFactors / readLoraDelta read every adapter's A, B and the active ΔW, disposing what they make", async () => {
  const model = createModel('mlp', { sizes: [6, 5, 4], activation: 'relu' }, 3);
  injectLora(model, [{ path: 'layers.0', r: 2, alpha: 4 }], 1);
  injectLora(model, [{ path: 'layers.0', r: 3, alpha: 3 }], 2, 'second'); // added, not active
  for (const [, layer] of loraLayers(model)) {
    for (const adapter of layer.adapters()) tf.tidy(() => adapter.b.assign(seededTensor(adapter.b.shape, adapter.r, 0.5))); // B starts at 0
  }
  const view: ModelLike = model; // core's Model fits the plugin view
  const before = tf.memory().numTensors;

  expect(loraModules(view).map(([path]) => path)).toEqual(['layers.0']);
  expect(isLoraModule(view.getSubmodule('layers.1'))).toBe(false);
  const factors = await readLoraFactors(view);
  expect(factors.map((f) => [f.path, f.adapter, f.active, f.r, f.alpha, f.scaling])).toEqual([
    ['layers.0', 'default', true, 2, 4, 2],
    ['layers.0', 'second', false, 3, 3, 1],
  ]);
  const layer = loraLayers(model)[0][1];
  const asView: LoraModuleLike = layer; // core's LoRA layers fit the plugin view (checked by the compiler)
  expect(isLoraModule(asView)).toBe(true);
  for (const f of factors) {
    const adapter = layer.adapter(f.adapter)!;
    expect(f.a.shape).toEqual([6, f.r]);
    expect(f.b.shape).toEqual([f.r, 5]);
    expect([...f.a.data]).toEqual([...(await adapter.a.data())]);
    expect([...f.b.data]).toEqual([...(await adapter.b.data())]);
    expect(f.magnitude).toBeNull();
    expect([f.variant, f.dora, f.extras]).toEqual(['lora', false, {}]);
  }

  // ΔW of the active adapter ("default" only), in the base weight's shape [in, out], against float64 on the host.
  const delta = await readLoraDelta(loraModules(view)[0][1]);
  expect(delta.shape).toEqual([6, 5]);
  const [first] = factors;
  const expected = hostDelta(first.a.data, first.b.data, 6, 2, 5, first.scaling);
  const maxAbs = Math.max(...expected.map(Math.abs));
  expect(maxAbs).toBeGreaterThan(0.01);
  for (let i = 0; i < expected.length; i++) expect(Math.abs(delta.data[i] - expected[i])).toBeLessThan(1e-6 * maxAbs + 1e-7);
  expect(tf.memory().numTensors).toBe(before);
  model.dispose();
});
