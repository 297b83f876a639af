import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { activeBackend, freeze, injectLora, Linear, Llama, listSites, parameterReport, Rng } from '@rankwise/core';
import { sparseSoftmaxCrossEntropy } from '@rankwise/core/training';
import { unfreeze } from '@rankwise/lora';
import { QUANTIZED_MATMUL_KERNEL, buildQuantized, dequantizeWeight, quantizedLinears, quantizeModel, transposeValues, type QuantType } from '@rankwise/models';
import { useTestBackend } from '../helpers/backend.js';
import { normRelativeError, seededTensor, take, values } from '../helpers/numeric.js';

let backend = '';
beforeAll(async () => {
  backend = (await useTestBackend()).tfBackend;
});
afterAll(async () => {
  await tf.setBackend(backend);
});

const TYPES: QuantType[] = ['nf4', 'int8', 'bf16'];

/** A frozen Linear [in, out] quantized, and a float32 Linear holding exactly its dequantized weight. */
async function pair(type: QuantType, inF: number, outF: number, seed: number): Promise<{ quantized: Linear; dense: Linear }> {
  const quantized = new Linear(inF, outF, new Rng(seed), { role: 'attn.q', layer: 0 });
  const bias = quantized.bias!.clone();
  quantized.weight.trainable = false;
  await quantized.quantize(type);
  const w = dequantizeWeight(quantized.quantized!); // [out, in]
  const dense = new Linear(inF, outF, null, { init: { weight: tf.tensor2d(transposeValues(w, outF, inF), [inF, outF]), bias } });
  dense.weight.trainable = false;
  return { quantized, dense };
}

/** y = f(x) and dx for a fixed upstream gradient, on the current backend. */
async function outputAndGradient(linear: Linear, x: tf.Tensor, dy: tf.Tensor): Promise<{ y: Float32Array; dx: Float32Array }> {
  const y = await take(tf.tidy(() => linear.forward(x)));
  const dx = await take(tf.grad((input: tf.Tensor) => linear.forward(input).mul(dy).sum())(x));
  return { y, dx };
}

describe('Linear with a quantized frozen weight', () => {
  for (const type of TYPES) {
    test(`${type}: output and input gradient equal a float32 Linear holding the dequantized weight (1e-5), with the ${"backend's"} kernel and with per-layer dequantization; no tensor left`, async () => {
      const before = tf.memory().numTensors;
      const { quantized, dense } = await pair(type, 200, 136, 7); // in 200: NF4 blocks straddle rows; out 136: a partial tile
      const x = seededTensor([3, 5, 200], 3); // [B, T, in]
      const dy = seededTensor([3, 5, 136], 4);
      const reference = await outputAndGradient(dense, x, dy);
      for (const name of [backend, 'cpu']) {
        await tf.setBackend(name);
        const kernel = tf.getKernel(QUANTIZED_MATMUL_KERNEL, name) != null;
        if (activeBackend()?.name === 'native') expect(kernel).toBe(name !== 'cpu'); // the native backend registers the kernel core runs
        if (name === 'cpu') expect(kernel).toBe(false);
        const ours = await outputAndGradient(quantized, x, dy);
        const yErr = normRelativeError(ours.y, reference.y);
        const dxErr = normRelativeError(ours.dx, reference.dx);
        console.info(
          `[quantized-linear] ${type} on ${name}${kernel ? ' (kernel)' : ' (dequantized per layer)'}: y ${yErr.toExponential(2)}, dx ${dxErr.toExponential(2)}`,
        );
        expect(yErr).toBeLessThan(1e-5);
        expect(dxErr).toBeLessThan(1e-5);
      }
      await tf.setBackend(backend);
      expect(quantized.parameters().map((p) => p.name.split('/').pop())).toEqual(['bias']); // W is no tf.Variable any more
      expect(() => quantized.weight).toThrow(`stores its frozen weight quantized (${type})`);
      tf.dispose([x, dy]);
      quantized.dispose();
      dense.dispose();
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  test('the native kernel never holds the float32 weight: peak bytes of forward + backward stay far below it, unlike per-layer dequantization (the check can fail)', async () => {
    if (backend !== 'native') return; // the kernel is the native backend's
    const { quantized, dense } = await pair('nf4', 1024, 1024, 9); // W: 4 MiB in float32
    dense.dispose();
    const x = seededTensor([2, 1024], 5);
    const peak = async () => {
      const profile = await tf.profile(() => {
        const g = tf.grad((input: tf.Tensor) => quantized.forward(input).sum())(x);
        g.dispose();
      });
      return profile.peakBytes - profile.newBytes;
    };
    const native = await peak();
    await tf.setBackend('cpu');
    const perLayer = await peak();
    await tf.setBackend(backend);
    console.info(`[quantized-linear] peak bytes of a [1024, 1024] nf4 forward + backward: native ${native}, per-layer dequantization ${perLayer}`);
    expect(native).toBeLessThan(1024 * 1024); // a quarter of W in float32
    expect(perLayer).toBeGreaterThanOrEqual(4 * 1024 * 1024);
    x.dispose();
    quantized.dispose();
  });

  test('built quantized (buildQuantized): the same numbers as the float32 model quantized after building, and LoRA trains on it; unfreeze refuses', async () => {
    const config = {
      model_type: 'llama',
      vocab_size: 61,
      hidden_size: 64,
      intermediate_size: 96,
      num_hidden_layers: 2,
      num_attention_heads: 4,
      num_key_value_heads: 2,
      rope_theta: 10000,
      rms_norm_eps: 1e-5,
      max_position_embeddings: 32,
      tie_word_embeddings: false,
      context: 8,
    };
    const built = buildQuantized(
      'nf4',
      (l) => l.role !== 'head',
      () => new Llama(config, 11),
    );
    const later = new Llama(config, 11);
    const report = await quantizeModel(later, 'nf4');
    expect(report.layers).toBe(14);
    expect(quantizedLinears(built).length).toBe(14);
    expect(parameterReport(built).total).toBe(parameterReport(later).total);
    expect(parameterReport(built).total).toBe(parameterReport(new Llama(config, 11)).total);
    for (const [[path, a], [, b]] of quantizedLinears(built).map((e, i) => [e, quantizedLinears(later)[i]] as const)) {
      expect(a.quantized, path).toEqual(b.quantized);
    }
    const ids = tf.tensor2d(
      Array.from({ length: 16 }, (_, i) => (i * 7) % 61),
      [2, 8],
      'int32',
    );
    const targets = tf.tensor2d(
      Array.from({ length: 16 }, (_, i) => (i * 5 + 1) % 61),
      [2, 8],
      'int32',
    );
    expect(await take(tf.tidy(() => built.forward(ids)))).toEqual(await take(tf.tidy(() => later.forward(ids))));
    freeze(built);
    injectLora(
      built,
      listSites(built)
        .filter((s) => s.role === 'attn.q' || s.role === 'attn.v')
        .map((s) => ({ path: s.path, r: 4, alpha: 8 })),
      3,
    );
    const variables = built.trainableParameters();
    expect(variables.length).toBe(8);
    const { value, grads } = tf.variableGrads(() => sparseSoftmaxCrossEntropy(built.forward(ids), targets), variables);
    expect(Number.isFinite((await values(value))[0])).toBe(true);
    const nonZero = await Promise.all(variables.map(async (v) => (await values(grads[v.name])).some((g) => g !== 0)));
    expect(nonZero).toEqual(variables.map((v) => v.name.includes('lora_B'))); // B = 0 at the start: only B's gradients are non-zero
    tf.dispose([value, grads, ids, targets]);
    expect(() => unfreeze(built)).toThrow(
      /14 Linear weights are stored quantized \(nf4, e\.g\. model\.layers\.0\.self_attn\.q_proj\.base\); they cannot be fine-tuned/,
    );
    built.dispose();
    later.dispose();
  });
});
