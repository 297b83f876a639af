import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, test } from 'vitest';
import { freeze, Gpt, injectLora, Llama, listSites } from '@rankwise/core';
import { releaseDuringBackprop, setGradientCheckpointing, sparseSoftmaxCrossEntropy } from '@rankwise/core/training';
import type { Model } from '@rankwise/models';
import { useTestBackend } from '../helpers/backend.js';
import { normRelativeError, values } from '../helpers/numeric.js';
import { tinyLlamaConfig } from '../helpers/tiny-llama.js';

beforeAll(async () => {
  await useTestBackend();
});

const tinyLlama = tinyLlamaConfig({ vocab_size: 97, hidden_size: 32, intermediate_size: 48, num_hidden_layers: 3, context: 16 });

type Build = () => Model;
const builds: Record<string, Build> = {
  llama: () => new Llama(tinyLlama, 3),
  // dropout 0.1 everywhere: the recompute must draw the same masks as the forward pass
  gpt: () => new Gpt({ vocabSize: 61, dim: 32, layers: 3, heads: 4, context: 16, dropout: 0.1 }, 4),
};

/** LoRA on every site with non-zero B (every gradient path used), LoRA dropout 0.1; or every parameter trainable. */
function prepare(model: Model, lora: boolean): void {
  if (!lora) return;
  freeze(model);
  injectLora(
    model,
    listSites(model).map((s) => ({ path: s.path, r: 4, alpha: 8, dropout: 0.1 })),
    5,
  );
  for (const v of model.trainableParameters().filter((p) => p.name.includes('lora_B'))) {
    const value = tf.randomNormal(v.shape, 0, 0.1, 'float32', 9);
    v.assign(value);
    value.dispose();
  }
}

/** Loss and gradients of two training steps' worth of forward/backward (the second checks that the random streams advanced alike). */
async function gradients(arch: string, lora: boolean, checkpointing: boolean): Promise<{ loss: number[]; grads: Float32Array[]; peakBytes: number }> {
  const model = builds[arch]();
  prepare(model, lora);
  if (checkpointing) expect(setGradientCheckpointing(model, true)).toBe(3);
  model.train();
  const vocab = arch === 'llama' ? 97 : 61;
  const ids = tf.tensor2d(
    Array.from({ length: 2 * 16 }, (_, i) => (i * 31) % vocab),
    [2, 16],
    'int32',
  );
  const targets = tf.tensor2d(
    Array.from({ length: 2 * 16 }, (_, i) => (i * 13 + 5) % vocab),
    [2, 16],
    'int32',
  );
  const variables = model.trainableParameters();
  const loss: number[] = [];
  let grads: Float32Array[] = [];
  let peakBytes = 0;
  for (let round = 0; round < 2; round++) {
    let result: { value: tf.Scalar; grads: tf.NamedTensorMap } | undefined;
    const profile = await tf.profile(() => {
      result = tf.variableGrads(() => {
        const l = sparseSoftmaxCrossEntropy(model.forward(ids), targets);
        releaseDuringBackprop();
        return l;
      }, variables);
    });
    peakBytes = Math.max(peakBytes, profile.peakBytes - profile.newBytes);
    loss.push((await values(result!.value))[0]);
    grads = await Promise.all(variables.map((v) => values(result!.grads[v.name])));
    tf.dispose([result!.value, result!.grads]);
  }
  tf.dispose([ids, targets]);
  model.dispose();
  return { loss, grads, peakBytes };
}

describe('gradient checkpointing per transformer block', () => {
  for (const arch of ['llama', 'gpt']) {
    for (const lora of [true, false]) {
      test(`${arch}, ${lora ? 'LoRA (dropout 0.1) on every site' : 'full fine-tuning'}: the gradients of the uncheckpointed model to 1e-6, no tensor left`, async () => {
        const before = tf.memory().numTensors;
        const plain = await gradients(arch, lora, false);
        const checkpointed = await gradients(arch, lora, true);
        expect(tf.memory().numTensors).toBe(before);
        expect(checkpointed.loss).toEqual(plain.loss);
        expect(checkpointed.grads.length).toBe(plain.grads.length);
        expect(plain.grads.length).toBeGreaterThan(10);
        let worst = 0;
        plain.grads.forEach((g, i) => {
          expect(g.some((v) => v !== 0)).toBe(true);
          worst = Math.max(worst, normRelativeError(checkpointed.grads[i], g));
        });
        console.info(
          `[checkpointing] ${arch} ${lora ? 'lora' : 'full'}: worst relative difference ${worst.toExponential(2)}; backward peak ${checkpointed.peakBytes} B vs ${plain.peakBytes} B`,
        );
        expect(worst).toBeLessThanOrEqual(1e-6);
        // Only the blocks' inputs are kept through the forward pass (measured here: about 0.4 of the plain peak).
        expect(checkpointed.peakBytes).toBeLessThan(0.6 * plain.peakBytes);
      });
    }
  }

  test('a model without blocks is refused, and turning it off restores the plain forward', () => {
    const model = builds.llama();
    expect(setGradientCheckpointing(model, true)).toBe(3);
    expect(setGradientCheckpointing(model, false)).toBe(3);
    expect((model.getSubmodule('model.layers') as unknown as { runChild: unknown }).runChild).toBeNull();
    model.dispose();
  });
});
