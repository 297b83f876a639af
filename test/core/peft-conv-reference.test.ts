import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, test } from 'vitest';
import { loadTfjsModel, mergeAndUnload, saveAdapter, saveTfjsModel } from '@rankwise/core';
import { decodeSafetensors } from '@rankwise/formats';
import { useTestBackend } from '../helpers/backend.js';
import { maxAbsDiff } from '../helpers/numeric.js';
import { adaptForReference } from '../fixtures/tfjs-conv-lora/adapt.js';

const fixture = 'test/fixtures/tfjs-conv-lora';

interface Reference {
  layers: Record<string, { scaling: number; shape: number[]; merged: number[] }>;
}

beforeAll(async () => {
  await useTestBackend();
});

/** tfjs kernel [kh, kw, in, out] → PyTorch [out, in, kh, kw], flattened. */
function toTorchLayout(values: Float32Array, [kh, kw, cin, cout]: number[]): Float32Array {
  const out = new Float32Array(values.length);
  for (let h = 0; h < kh; h++)
    for (let w = 0; w < kw; w++)
      for (let i = 0; i < cin; i++)
        for (let o = 0; o < cout; o++) {
          out[((o * cin + i) * kh + h) * kw + w] = values[((h * kw + w) * cin + i) * cout + o];
        }
  return out;
}

describe('conv LoRA against PEFT (PyTorch reference from make_reference.py)', () => {
  test('the adapter file is PEFT layout, and the merged kernels rankwise saves equal PEFT merging that file (≤ 1e-6)', async () => {
    const out = await mkdtemp(join(tmpdir(), 'rankwise-peft-conv-'));
    const tensors = tf.memory().numTensors;
    const model = await loadTfjsModel(`${fixture}/base`);
    adaptForReference(model);
    await saveAdapter(model, join(out, 'adapter'), { baseModel: 'base/model.json' });
    // The adapter the reference was computed from is the one rankwise writes now (same seed ⇒ same file contents).
    const written = decodeSafetensors(await readFile(join(out, 'adapter', 'adapter_model.safetensors')));
    const committed = decodeSafetensors(await readFile(`${fixture}/adapter/adapter_model.safetensors`));
    expect(Object.fromEntries([...written.tensors].map(([k, v]) => [k, v.shape]))).toEqual({
      'base_model.model.conv_a.lora_A.weight': [2, 2, 3, 3], // [r, in, kh, kw], PyTorch's Conv2d weight layout
      'base_model.model.conv_a.lora_B.weight': [3, 2, 1, 1], // [out, r, 1, 1]
      'base_model.model.conv_b.lora_A.weight': [3, 3, 2, 2],
      'base_model.model.conv_b.lora_B.weight': [4, 3, 1, 1],
    });
    for (const [name, t] of written.tensors) expect(maxAbsDiff(t.data, committed.tensors.get(name)!.data), name).toBe(0);

    mergeAndUnload(model);
    await saveTfjsModel(model, join(out, 'tfjs'));
    const json = JSON.parse(await readFile(join(out, 'tfjs', 'model.json'), 'utf8'));
    const shard = await readFile(join(out, 'tfjs', json.weightsManifest[0].paths[0]));
    const reference = JSON.parse(await readFile(`${fixture}/reference.json`, 'utf8')) as Reference;
    let offset = 0;
    const checked: string[] = [];
    for (const spec of json.weightsManifest[0].weights as Array<{ name: string; shape: number[] }>) {
      const size = spec.shape.reduce((a, b) => a * b, 1);
      const values = new Float32Array(shard.buffer.slice(shard.byteOffset + offset, shard.byteOffset + offset + 4 * size));
      offset += 4 * size;
      const layer = spec.name.replace('/kernel', '');
      if (!(layer in reference.layers) || !spec.name.endsWith('/kernel')) continue;
      const expected = Float32Array.from(reference.layers[layer].merged);
      expect(maxAbsDiff(toTorchLayout(values, spec.shape), expected), layer).toBeLessThan(1e-6); // fp32 product order only
      checked.push(layer);
    }
    expect(checked).toEqual(['conv_a', 'conv_b']);
    model.dispose();
    expect(tf.memory().numTensors).toBe(tensors); // loading, saving and disposing a tfjs model leaks nothing
  });
});
