import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, test } from 'vitest';
import { injectLora, loadCheckpoint, Mlp, readSafetensorsFile, saveCheckpoint } from '@rankwise/core';
import { encodeSafetensors } from '@rankwise/formats';
import { useTestBackend } from '../helpers/backend.js';
import { maxAbsDiff, seededTensor, take } from '../helpers/numeric.js';

beforeAll(async () => {
  await useTestBackend();
});

const tempDir = () => mkdtemp(join(tmpdir(), 'rankwise-ckpt-'));

describe('checkpoints', () => {
  test('save then load gives identical outputs and leaks nothing', async () => {
    const dir = await tempDir();
    const model = new Mlp({ sizes: [10, 7, 3], activation: 'gelu' }, 42);
    const x = seededTensor([4, 10], 1);
    const expected = await take(model.forward(x));
    await saveCheckpoint(model, dir, { extra: { note: 'hello' } });
    const tensors = tf.memory().numTensors;
    const { model: loaded, config } = await loadCheckpoint(dir);
    expect(config.architecture).toBe('mlp');
    expect(config.extra).toEqual({ note: 'hello' });
    expect(loaded.config).toEqual(model.config);
    expect(maxAbsDiff(await take(loaded.forward(x)), expected)).toBe(0);
    loaded.dispose();
    expect(tf.memory().numTensors).toBe(tensors);
    const file = await readSafetensorsFile(join(dir, 'model.safetensors'));
    expect([...file.tensors.keys()]).toEqual(['layers.0.weight', 'layers.0.bias', 'layers.1.weight', 'layers.1.bias']);
    x.dispose();
    model.dispose();
  });

  test('refuses to save unmerged adapters', async () => {
    const model = new Mlp({ sizes: [4, 2] }, 0);
    injectLora(model, [{ path: 'layers.0', r: 1, alpha: 1 }], 0);
    await expect(saveCheckpoint(model, await tempDir())).rejects.toThrow(
      'merge them first (mergeAndUnload), pass { merge: true }, or save the adapter (saveAdapter)',
    );
    model.dispose();
  });

  test('missing, unexpected and mis-shaped tensors are named', async () => {
    const dir = await tempDir();
    const model = new Mlp({ sizes: [4, 3, 2] }, 0);
    await saveCheckpoint(model, dir);
    const weights = join(dir, 'model.safetensors');
    const t = (name: string, shape: number[]) => ({ name, shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) });
    await writeFile(weights, encodeSafetensors([t('layers.0.weight', [4, 3]), t('layers.0.bias', [3]), t('layers.1.weight', [3, 2])]));
    await expect(loadCheckpoint(dir)).rejects.toThrow(`${weights}: missing tensors layers.1.bias`);
    await writeFile(
      weights,
      encodeSafetensors([t('layers.0.weight', [4, 3]), t('layers.0.bias', [3]), t('layers.1.weight', [3, 2]), t('layers.1.bias', [2]), t('extra', [1])]),
    );
    await expect(loadCheckpoint(dir)).rejects.toThrow('unexpected tensors extra');
    await writeFile(weights, encodeSafetensors([t('layers.0.weight', [4, 5]), t('layers.0.bias', [3]), t('layers.1.weight', [3, 2]), t('layers.1.bias', [2])]));
    await expect(loadCheckpoint(dir)).rejects.toThrow('tensor "layers.0.weight": shape [4, 5] in the file, the model expects [4, 3]');
    await writeFile(join(dir, 'config.json'), '{"format": "rankwise-checkpoint", "version": 1, "architecture": "resnet", "config": {}}');
    await expect(loadCheckpoint(dir)).rejects.toThrow('unknown architecture "resnet"; known: gpt, llama, mlp');
    await writeFile(join(dir, 'config.json'), '{"format": "something-else"}');
    await expect(loadCheckpoint(dir)).rejects.toThrow('/format: found "something-else", allowed: "rankwise-checkpoint"');
    await expect(loadCheckpoint(join(dir, 'nope'))).rejects.toThrow('not a checkpoint directory (config.json missing)');
    model.dispose();
  });
});
