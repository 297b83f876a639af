import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, test } from 'vitest';
import type { RunSummary } from '@rankwise/core';
import { decodeSafetensors } from '@rankwise/formats';
import { trainDigitsCnn } from '../../examples/digits-cnn/train-base.js';
import { runCli } from '../helpers/cli.js';
import { tinyCopies } from '../helpers/tiny-pipelines.js';

describe('e2e: a tfjs CNN made with the Layers API → digits-cnn-lora through the CLI', () => {
  test('loads the LayersModel, adapts Conv2D and Dense, saves a LayersModel tf.loadLayersModel reads and a PEFT adapter', async () => {
    const { dir, path } = await tinyCopies({
      'pipelines/digits-cnn-lora.json': { steps: 12, limit: 200, edit: (p) => Object.assign(p.stages[0], { tfjs: './base' }) },
    });
    await tf.setBackend('cpu');
    // The example's own script, small: 4 and 8 filters, one epoch over 300 digits.
    await trainDigitsCnn({ out: join(dir, 'base'), epochs: 1, limit: 300, filters: [4, 8], log: () => undefined });
    const out = join(dir, 'runs');
    const run = runCli(['run', path('digits-cnn-lora.json'), '--out', out]);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const latest = join(out, 'digits-cnn-lora', 'latest');
    const summary = JSON.parse(readFileSync(join(latest, 'summary.json'), 'utf8')) as RunSummary;
    expect(summary.status).toBe('completed');
    // r·(kh·kw·in + out) per conv, r·(in + out) for the Dense: 8·(25 + 4) + 8·(36 + 8) + 8·(200 + 10)
    expect(summary.trainableParams).toBe(8 * (25 + 4) + 8 * (36 + 8) + 8 * (200 + 10));
    expect(summary.evaluations.map((e) => e.label)).toEqual(['upright', 'zero-shot', 'lora', 'merged']);
    const [, , lora, merged] = summary.evaluations;
    expect(merged.metrics.accuracy).toBe(lora.metrics.accuracy);
    expect(Math.abs(merged.metrics.loss - lora.metrics.loss)).toBeLessThan(1e-4);
    expect(summary.memory.numTensorsAfter).toBe(summary.memory.numTensorsBefore);

    const weights = decodeSafetensors(readFileSync(join(latest, 'adapter', 'adapter_model.safetensors')));
    expect(Object.fromEntries([...weights.tensors].map(([k, v]) => [k, v.shape]))).toEqual({
      'base_model.model.conv1.lora_A.weight': [8, 1, 5, 5], // PyTorch conv layout [r, in, kh, kw]
      'base_model.model.conv1.lora_B.weight': [4, 8, 1, 1],
      'base_model.model.conv2.lora_A.weight': [8, 4, 3, 3],
      'base_model.model.conv2.lora_B.weight': [8, 8, 1, 1],
      'base_model.model.dense.lora_A.weight': [8, 200],
      'base_model.model.dense.lora_B.weight': [10, 8],
    });
    const config = JSON.parse(readFileSync(join(latest, 'adapter', 'adapter_config.json'), 'utf8'));
    expect(config).toMatchObject({ peft_type: 'LORA', r: 8, lora_alpha: 16, target_modules: ['conv1', 'conv2', 'dense'] });

    // The exported folder: the original topology, loaded by tfjs itself.
    const exported = JSON.parse(readFileSync(join(latest, 'tfjs', 'model.json'), 'utf8'));
    const original = JSON.parse(readFileSync(join(dir, 'base', 'model.json'), 'utf8'));
    expect(exported.modelTopology).toEqual(original.modelTopology);
    expect(exported.weightsManifest[0].weights.map((w: { name: string }) => w.name)).toEqual(
      original.weightsManifest[0].weights.map((w: { name: string }) => w.name),
    );
    const shard = readFileSync(join(latest, 'tfjs', exported.weightsManifest[0].paths[0]));
    const model = await tf.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: exported.modelTopology,
        weightSpecs: exported.weightsManifest[0].weights,
        weightData: shard.buffer.slice(shard.byteOffset, shard.byteOffset + shard.byteLength),
      }),
    );
    const probabilities = tf.tidy(() => model.predict(tf.ones([2, 28, 28, 1])) as tf.Tensor);
    expect(probabilities.shape).toEqual([2, 10]);
    const sums = await tf.tidy(() => probabilities.sum(1)).data();
    for (const s of sums) expect(Math.abs(s - 1)).toBeLessThan(1e-5); // the softmax head is still there
    tf.dispose([probabilities]);
    model.dispose();
  });
});
