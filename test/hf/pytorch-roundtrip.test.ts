import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, test } from 'vitest';
import { freeze, injectLora, loadAdapter, loadHuggingFaceModel, saveAdapter, saveHuggingFaceModel, type Llama } from '@rankwise/core';
import { createOptimizer, sparseSoftmaxCrossEntropy, trainStep } from '@rankwise/core/training';
import { decodeSafetensors, encodeSafetensors } from '@rankwise/formats';
import { useTestBackend } from '../helpers/backend.js';
import { normRelativeError } from '../helpers/numeric.js';
import { fixture, logitsOf, reference } from './fixtures.js';

/**
 * An adapter trained by rankwise, applied in PyTorch by scripts/hf-reference/make_llama_reference.py with PEFT's rules,
 * must give rankwise's logits. The committed copy (test/fixtures/hf/rankwise-trained, with the logits the script
 * computed for it) keeps this meaningful without Python; with python3 + torch the whole round trip runs fresh.
 * RANKWISE_WRITE_HF_FIXTURES=1 rewrites the committed copy (needs python3 with torch).
 */
const TOLERANCE = 1e-4;
const SCRIPT = resolve('scripts/hf-reference/make_llama_reference.py');
const TRAINED = fixture('rankwise-trained');
/** PyTorch's logits for the committed adapter, F32 [2, 12, 384]. */
const LOGITS_FILE = 'pytorch-logits.safetensors';

beforeAll(async () => {
  await useTestBackend();
});

/** A python3 that imports torch (RANKWISE_PYTHON, python3 on PATH, Debian's /usr/bin/python3), or null. */
function findTorchPython(): string | null {
  const candidates = [process.env.RANKWISE_PYTHON, 'python3', '/usr/bin/python3'].filter((c): c is string => Boolean(c));
  for (const python of candidates) {
    if (spawnSync(python, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0) return python;
  }
  return null;
}
const python = findTorchPython();

/** PyTorch's logits for the reference ids: the script's `apply` on a model directory, with or without an adapter. */
function pytorchLogits(model: string, adapter?: string): Float32Array {
  const work = mkdtempSync(join(tmpdir(), 'rankwise-torch-'));
  writeFileSync(join(work, 'ids.json'), JSON.stringify(reference.ids));
  const args = [
    SCRIPT,
    'apply',
    '--model',
    model,
    '--ids',
    join(work, 'ids.json'),
    '--out',
    join(work, 'logits.json'),
    ...(adapter ? ['--adapter', adapter] : []),
  ];
  const run = spawnSync(python!, args, { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`${python} ${args.join(' ')} failed:\n${run.stderr}`);
  return Float32Array.from((JSON.parse(readFileSync(join(work, 'logits.json'), 'utf8')) as { logits: number[] }).logits);
}

/**
 * llama-tiny with adapters from three inject calls (q_proj r 4 rsLoRA, v_proj r 2 α 3, layer 1's down_proj r 3 α 6),
 * trained a few Adam steps on fixed ids so every factor is non-zero.
 */
async function trainAdapter(): Promise<Llama> {
  const { model } = await loadHuggingFaceModel(fixture('llama-tiny'));
  freeze(model);
  const layers = [0, 1];
  injectLora(
    model,
    layers.map((l) => ({ path: `model.layers.${l}.self_attn.q_proj`, r: 4, alpha: 8, rslora: true })),
    1,
  );
  injectLora(
    model,
    layers.map((l) => ({ path: `model.layers.${l}.self_attn.v_proj`, r: 2, alpha: 3 })),
    2,
  );
  injectLora(model, [{ path: 'model.layers.1.mlp.down_proj', r: 3, alpha: 6 }], 3);
  const optimizer = createOptimizer({ name: 'adam', lr: 0.05 });
  const ids = tf.tensor2d(
    reference.ids.map((row) => row.slice(0, 11)),
    [2, 11],
    'int32',
  );
  const targets = tf.tensor2d(
    reference.ids.map((row) => row.slice(1)),
    [2, 11],
    'int32',
  );
  for (let step = 0; step < 4; step++) {
    const out = trainStep({
      loss: () => sparseSoftmaxCrossEntropy(model.forward(ids), targets),
      variables: model.trainableParameters(),
      optimizer: optimizer.optimizer,
    });
    tf.dispose(out);
  }
  optimizer.optimizer.dispose();
  tf.dispose([ids, targets]);
  return model;
}

describe('an adapter trained by rankwise, applied by PyTorch with PEFT rules', () => {
  test('the committed rankwise-trained adapter gives the logits the PyTorch script computed for it', async () => {
    const committed = decodeSafetensors(readFileSync(join(TRAINED, LOGITS_FILE))).tensors.get('logits')!.data;
    const { model } = await loadHuggingFaceModel(fixture('llama-tiny'));
    const base = await logitsOf(model);
    await loadAdapter(model, TRAINED);
    const error = normRelativeError(await logitsOf(model), committed);
    model.dispose();
    expect(normRelativeError(base, committed)).toBeGreaterThan(100 * TOLERANCE); // the adapter matters
    expect(error).toBeLessThan(TOLERANCE);
    console.info(`[test] committed rankwise-trained adapter vs PyTorch: relative error ${error.toExponential(2)}`);
  });

  test.runIf(python !== null)(
    'fresh round trip: train, save adapter and merged model, apply both in PyTorch',
    async () => {
      const before = tf.memory().numTensors;
      const model = await trainAdapter();
      const work = mkdtempSync(join(tmpdir(), 'rankwise-roundtrip-'));
      await saveAdapter(model, join(work, 'adapter'), { baseModel: 'rankwise/llama-tiny-random', taskType: 'CAUSAL_LM' });
      await saveHuggingFaceModel(model, join(work, 'merged'));
      const ours = await logitsOf(model);
      model.dispose();
      expect(tf.memory().numTensors).toBe(before);
      const viaAdapter = normRelativeError(ours, pytorchLogits(fixture('llama-tiny'), join(work, 'adapter')));
      const viaMerged = normRelativeError(ours, pytorchLogits(join(work, 'merged')));
      console.info(`[test] fresh rankwise-trained adapter vs PyTorch: adapter ${viaAdapter.toExponential(2)}, merged ${viaMerged.toExponential(2)}`);
      expect(viaAdapter).toBeLessThan(TOLERANCE);
      expect(viaMerged).toBeLessThan(TOLERANCE);
      if (process.env.RANKWISE_WRITE_HF_FIXTURES === '1') {
        mkdirSync(TRAINED, { recursive: true });
        cpSync(join(work, 'adapter'), TRAINED, { recursive: true });
        const logits = pytorchLogits(fixture('llama-tiny'), TRAINED);
        writeFileSync(join(TRAINED, LOGITS_FILE), encodeSafetensors([{ name: 'logits', shape: [2, 12, 384], data: logits }], { format: 'pt' }));
      }
    },
    60_000,
  );
});
