import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, test } from 'vitest';
import { listSites, loadAdapter, loadHuggingFaceModel } from '@rankwise/core';
import { useTestBackend } from '../helpers/backend.js';
import { normRelativeError } from '../helpers/numeric.js';
import { logitsOf } from './fixtures.js';
import { editedFixture, familyFixture, familyLogits, familyReference } from './family-fixtures.js';

/** Stated tolerance: rankwise (float32) against the PyTorch reference forward (float64), ‖Δ‖∞ / ‖ref‖∞. */
const TOLERANCE = 1e-4;
const ids = familyReference.ids;

beforeAll(async () => {
  await useTestBackend();
});

describe('model families against the PyTorch reference forward (scripts/hf-reference/make_family_reference.py)', () => {
  test.each([
    ['llama3-tiny', 'Llama 3.2-style: rope_scaling llama3, tied'],
    ['mistral-tiny', 'Mistral: sliding window 5 over 12 tokens, GQA, untied'],
    ['qwen3-tiny', 'Qwen3: q_norm / k_norm, head_dim 16 ≠ hidden / heads'],
    ['phi3-tiny', 'Phi-3: fused qkv_proj and gate_up_proj, partial rotary 0.5, sliding window 7'],
    ['gemma-tiny', 'Gemma: (1 + w) norms, sqrt(hidden) embedding scale, GeGLU, multi-query'],
    ['gemma2-tiny', 'Gemma 2 (BF16): soft-capping, sandwich norms, query_pre_attn_scalar, alternating window 4'],
  ])('%s (%s) gives the reference logits', async (dir) => {
    const before = tf.memory().numTensors;
    const { model } = await loadHuggingFaceModel(familyFixture(dir));
    const error = normRelativeError(await logitsOf(model, ids), await familyLogits(dir));
    model.dispose();
    expect(error).toBeLessThan(TOLERANCE);
    expect(tf.memory().numTensors).toBe(before);
    console.info(`[test] ${dir}: relative error ${error.toExponential(2)}`);
  });

  test.each(Object.keys(familyReference.variants))('%s (a rope_scaling in a copy of the config.json) gives the reference logits', async (variant) => {
    const { model: fixtureName, config: edits } = familyReference.variants[variant];
    const { model } = await loadHuggingFaceModel(editedFixture(fixtureName, (config) => Object.assign(config, edits)));
    const logits = await logitsOf(model, ids);
    model.dispose();
    const error = normRelativeError(logits, await familyLogits(variant));
    expect(error).toBeLessThan(TOLERANCE);
    // every schedule but dynamic (equal to default within max_position_embeddings) must change the logits
    const unscaled = await familyLogits(fixtureName === 'phi3-tiny' ? 'phi3-tiny' : 'llama3-tiny@default');
    if (!/@(dynamic|default)$/.test(variant)) expect(normRelativeError(logits, unscaled)).toBeGreaterThan(100 * TOLERANCE);
    console.info(`[test] ${variant}: relative error ${error.toExponential(2)}`);
  });

  test.each([
    ['phi3-tiny', 'phi3-all-linear', 'all-linear on fused qkv_proj / gate_up_proj, a rank pattern'],
    ['gemma2-tiny', 'gemma2-qv', 'q_proj, v_proj, rsLoRA'],
    ['qwen3-tiny', 'qwen3-all-linear', 'all-linear'],
  ])('%s with the PEFT adapter %s (%s) gives the reference logits', async (dir, adapter) => {
    const before = tf.memory().numTensors;
    const { model } = await loadHuggingFaceModel(familyFixture(dir));
    const base = await logitsOf(model, ids);
    await loadAdapter(model, familyFixture(`adapter-${adapter}`));
    const expected = await familyLogits(`${dir}+${adapter}`);
    const error = normRelativeError(await logitsOf(model, ids), expected);
    expect(normRelativeError(base, expected)).toBeGreaterThan(100 * TOLERANCE);
    model.dispose();
    expect(error).toBeLessThan(TOLERANCE);
    expect(tf.memory().numTensors).toBe(before);
    console.info(`[test] ${dir} + ${adapter}: relative error ${error.toExponential(2)}`);
  });

  test('Phi-3 sites are the fused modules PEFT targets: one site per qkv_proj and gate_up_proj', async () => {
    const { model } = await loadHuggingFaceModel(familyFixture('phi3-tiny'));
    const sites = listSites(model);
    model.dispose();
    expect(sites.slice(0, 4).map((s) => [s.path, s.role, s.inFeatures, s.outFeatures])).toEqual([
      ['model.layers.0.self_attn.qkv_proj', 'attn.qkv', 32, 64], // q 4·8 | k 2·8 | v 2·8
      ['model.layers.0.self_attn.o_proj', 'attn.o', 32, 32],
      ['model.layers.0.mlp.gate_up_proj', 'mlp.gate_up', 32, 80],
      ['model.layers.0.mlp.down_proj', 'mlp.down', 40, 32],
    ]);
    expect(sites[sites.length - 1]).toMatchObject({ path: 'lm_head', role: 'head' });
  });
});
