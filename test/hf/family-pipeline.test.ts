import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, expect, test } from 'vitest';
import { createRankwise, listSites, loadAdapter, loadHuggingFaceModel, type Pipeline } from '@rankwise/core';
import { SilentProgress } from '@rankwise/core/runs';
import { createDatasetSource } from '@rankwise/datasets';
import pattern from '@rankwise/placement-pattern';
import { useTestBackend } from '../helpers/backend.js';
import { normRelativeError } from '../helpers/numeric.js';
import { logitsOf } from './fixtures.js';
import { familyFixture, familyReference } from './family-fixtures.js';

beforeAll(async () => {
  await useTestBackend();
});

/** Each family's run: its folder and rankwise's logits of the base + trained adapter and of the merged model. */
const runs = new Map<string, { runDir: string; adapted: Float32Array; merged: Float32Array }>();

const rankwise = () => createRankwise({ progress: new SilentProgress(), datasets: createDatasetSource(), plugins: [pattern] });
const sotu = { dataset: 'sotu' as const, years: [2001, 2004] };

/** Load a family's tiny fixture, LoRA (r 4, all-linear) for a few steps, save the PEFT adapter and the merged model. */
const pipeline = (family: string): Pipeline => ({
  name: `${family}-lora`,
  seed: 5,
  stages: [
    { stage: 'load', huggingface: familyFixture(`${family}-tiny`), context: 16 },
    { stage: 'evaluate', label: 'zero-shot', data: { ...sotu, split: 'validation', maxWindows: 8 } },
    { stage: 'freeze' },
    { stage: 'inject', r: 4, alpha: 8, placement: { plugin: '@rankwise/placement-pattern', options: { target: 'all-linear' } } },
    { stage: 'train', data: { ...sotu, split: 'train' }, steps: 6, batchSize: 4, optimizer: { name: 'adamw', lr: 0.02 } },
    { stage: 'evaluate', label: 'tuned', data: { ...sotu, split: 'validation', maxWindows: 8 } },
    { stage: 'save', adapter: true, merged: true },
  ],
});

test.each(['llama3', 'mistral', 'qwen3', 'phi3', 'gemma', 'gemma2'])(
  '%s: a pipeline LoRA-trains the tiny fixture (all-linear); the PEFT adapter and the merged HF model load back and agree',
  async (family) => {
    const out = await mkdtemp(join(tmpdir(), `rankwise-${family}-`));
    const tensors = tf.memory().numTensors;
    const { runDir, summary } = await rankwise().run(pipeline(family), { out });
    expect(summary.memory.numTensorsAfter).toBe(summary.memory.numTensorsBefore);
    expect(tf.memory().numTensors).toBe(tensors);
    const [zeroShot, tuned] = summary.evaluations;
    expect(tuned.metrics.loss).toBeLessThan(zeroShot.metrics.loss);

    // all-linear: every Linear of the decoder layers, not the output head; the fused Phi-3 projections as one site each
    const { model: base } = await loadHuggingFaceModel(familyFixture(`${family}-tiny`));
    const sites = listSites(base).filter((s) => s.role !== 'head');
    expect(summary.trainableParams).toBe(sites.reduce((n, s) => n + 4 * (s.inFeatures + s.outFeatures), 0));
    const adapterConfig = JSON.parse(readFileSync(join(runDir, 'adapter', 'adapter_config.json'), 'utf8')) as { target_modules: string[] };
    expect(adapterConfig.target_modules).toEqual(sites.map((s) => s.path));
    if (family === 'phi3') expect(adapterConfig.target_modules).toContain('model.layers.1.self_attn.qkv_proj');

    // merged/ is a Hugging Face directory of the same family; it reproduces base + adapter
    const mergedDir = join(runDir, 'merged');
    const config = JSON.parse(readFileSync(join(mergedDir, 'config.json'), 'utf8')) as Record<string, unknown>;
    const original = JSON.parse(readFileSync(familyFixture(`${family}-tiny/config.json`), 'utf8')) as Record<string, unknown>;
    expect(config).toMatchObject({ model_type: original.model_type, architectures: original.architectures, torch_dtype: 'float32' });
    const baseLogits = await logitsOf(base, familyReference.ids);
    await loadAdapter(base, join(runDir, 'adapter'));
    const adapted = await logitsOf(base, familyReference.ids);
    base.dispose();
    const mergedLogits = async (dir: string) => {
      const { model } = await loadHuggingFaceModel(dir);
      const logits = await logitsOf(model, familyReference.ids);
      model.dispose();
      return logits;
    };
    expect(normRelativeError(adapted, baseLogits)).toBeGreaterThan(1e-3); // training changed the model
    runs.set(family, { runDir, adapted, merged: await mergedLogits(mergedDir) });
    if (family !== 'gemma2') {
      expect(normRelativeError(runs.get(family)!.merged, adapted)).toBeLessThan(1e-4);
      return;
    }
    // The Gemma 2 fixture is BF16, so its embedding scale is sqrt(40) rounded to BF16 (as transformers runs it); the
    // merged copy is float32 and scales by sqrt(40) itself: slightly different, and equal once marked BF16 again.
    const asBf16 = join(out, 'merged-bf16');
    cpSync(mergedDir, asBf16, { recursive: true });
    writeFileSync(join(asBf16, 'config.json'), JSON.stringify({ ...config, torch_dtype: 'bfloat16' }));
    expect(normRelativeError(await mergedLogits(mergedDir), adapted)).toBeLessThan(1e-2);
    expect(normRelativeError(await mergedLogits(asBf16), adapted)).toBeLessThan(1e-4);
  },
  60_000,
);

/** A python3 that imports torch (RANKWISE_PYTHON, python3 on PATH, Debian's /usr/bin/python3), or null. */
function findTorchPython(): string | null {
  const candidates = [process.env.RANKWISE_PYTHON, 'python3', '/usr/bin/python3'].filter((c): c is string => Boolean(c));
  for (const python of candidates) if (spawnSync(python, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0) return python;
  return null;
}
const python = findTorchPython();

/** PyTorch's logits (make_family_reference.py apply: transformers' forward, PEFT's adapter rules) for the reference ids. */
function pytorchLogits(model: string, adapter?: string): Float32Array {
  const work = mkdtempSync(join(tmpdir(), 'rankwise-torch-'));
  writeFileSync(join(work, 'ids.json'), JSON.stringify(familyReference.ids));
  const args = [
    resolve('scripts/hf-reference/make_family_reference.py'),
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

// Needs python3 with torch (Debian python3-torch); the committed references above cover the PEFT → rankwise direction without it.
test.skipIf(python === null).each(['phi3', 'gemma2'])(
  "%s: PyTorch applies the adapter rankwise trained (PEFT rules, fused sites) and its merged model with rankwise's logits",
  (family) => {
    const run = runs.get(family);
    expect(run, 'the pipeline test above ran').toBeDefined();
    expect(normRelativeError(run!.adapted, pytorchLogits(familyFixture(`${family}-tiny`), join(run!.runDir, 'adapter')))).toBeLessThan(1e-4);
    expect(normRelativeError(run!.merged, pytorchLogits(join(run!.runDir, 'merged')))).toBeLessThan(1e-4);
  },
  60_000,
);
