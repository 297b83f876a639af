import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, test } from 'vitest';
import { listSites, loadAdapter, loadHuggingFaceModel, readSafetensorsFile, saveHuggingFaceModel } from '@rankwise/core';
import { useTestBackend } from '../helpers/backend.js';
import { normRelativeError } from '../helpers/numeric.js';
import { fixture, logitsOf, referenceLogits } from './fixtures.js';

/** Stated tolerance: rankwise (float32) against the PyTorch reference forward (float64), ‖Δ‖∞ / ‖ref‖∞. */
const TOLERANCE = 1e-4;

beforeAll(async () => {
  await useTestBackend();
});

describe('Llama-family checkpoints against the PyTorch reference forward', () => {
  test.each([
    ['llama-tiny', 'llama-tiny'],
    ['llama-tiny-bf16-sharded', 'llama-tiny'],
    ['llama-tiny-f16', 'llama-tiny'],
    ['qwen2-tiny', 'qwen2-tiny'],
  ])('%s (F32 / BF16 shards / F16; GQA, rope, tied or untied head, q/k/v bias) gives the reference logits', async (dir, ref) => {
    const before = tf.memory().numTensors;
    const { model } = await loadHuggingFaceModel(fixture(dir));
    const error = normRelativeError(await logitsOf(model), await referenceLogits(ref));
    model.dispose();
    expect(error).toBeLessThan(TOLERANCE);
    expect(tf.memory().numTensors).toBe(before);
    console.info(`[test] ${dir}: relative error ${error.toExponential(2)}`);
  });

  test.each([
    ['llama-tiny', 'adapter-qv'],
    ['qwen2-tiny', 'adapter-mlp-rslora'],
  ])('%s with the PEFT adapter %s (short names / regex target, rank and alpha patterns, rsLoRA) gives the reference logits', async (dir, adapter) => {
    const before = tf.memory().numTensors;
    const { model } = await loadHuggingFaceModel(fixture(dir));
    const base = await logitsOf(model);
    await loadAdapter(model, fixture(adapter));
    const error = normRelativeError(await logitsOf(model), await referenceLogits(`${dir}+${adapter}`));
    // The adapter must matter: far from the base logits, close to the adapted reference.
    expect(normRelativeError(base, await referenceLogits(`${dir}+${adapter}`))).toBeGreaterThan(100 * TOLERANCE);
    model.dispose();
    expect(error).toBeLessThan(TOLERANCE);
    expect(tf.memory().numTensors).toBe(before);
    console.info(`[test] ${dir} + ${adapter}: relative error ${error.toExponential(2)}`);
  });

  test('sites carry HF module paths and roles', async () => {
    const { model } = await loadHuggingFaceModel(fixture('qwen2-tiny'));
    const sites = listSites(model);
    model.dispose();
    expect(sites.slice(0, 7).map((s) => [s.path, s.role, s.inFeatures, s.outFeatures])).toEqual([
      ['model.layers.0.self_attn.q_proj', 'attn.q', 32, 32],
      ['model.layers.0.self_attn.k_proj', 'attn.k', 32, 8],
      ['model.layers.0.self_attn.v_proj', 'attn.v', 32, 8],
      ['model.layers.0.self_attn.o_proj', 'attn.o', 32, 32],
      ['model.layers.0.mlp.gate_proj', 'mlp.gate', 32, 48],
      ['model.layers.0.mlp.up_proj', 'mlp.up', 32, 48],
      ['model.layers.0.mlp.down_proj', 'mlp.down', 48, 32],
    ]);
    expect(sites[sites.length - 1]).toMatchObject({ path: 'lm_head', role: 'head', layer: null });
  });

  test('a model saved in HF layout (merged adapter) has the checkpoint names, [out, in] shapes and the adapted logits', async () => {
    const { model } = await loadHuggingFaceModel(fixture('llama-tiny'));
    await loadAdapter(model, fixture('adapter-qv'));
    const dir = await mkdtemp(join(tmpdir(), 'rankwise-hf-save-'));
    await saveHuggingFaceModel(model, dir, { tokenizerFrom: fixture('llama-tiny') });
    model.dispose();
    const saved = await readSafetensorsFile(join(dir, 'model.safetensors'));
    const original = await readSafetensorsFile(fixture('llama-tiny/model.safetensors'));
    expect(saved.metadata).toEqual({ format: 'pt' });
    expect([...saved.tensors.keys()].sort()).toEqual([...original.tensors.keys()].sort());
    for (const [name, t] of original.tensors) expect(saved.tensors.get(name)?.shape, name).toEqual(t.shape);
    expect(saved.tensors.get('model.layers.0.mlp.up_proj.weight')?.data).toEqual(original.tensors.get('model.layers.0.mlp.up_proj.weight')?.data);
    const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    const originalConfig = JSON.parse(await readFile(fixture('llama-tiny/config.json'), 'utf8')) as Record<string, unknown>;
    const { _name_or_path: hubId, ...rest } = originalConfig;
    expect(hubId).toBe('rankwise/llama-tiny-random');
    expect(config).toEqual(rest); // every key kept but _name_or_path: the merged weights are not the Hub model's
    expect(await readFile(join(dir, 'tokenizer.json'), 'utf8')).toBe(await readFile(fixture('llama-tiny/tokenizer.json'), 'utf8'));
    const { model: reloaded } = await loadHuggingFaceModel(dir);
    const error = normRelativeError(await logitsOf(reloaded), await referenceLogits('llama-tiny+adapter-qv'));
    reloaded.dispose();
    expect(error).toBeLessThan(TOLERANCE);
  });
});
