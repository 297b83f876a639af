import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, expect, test } from 'vitest';
import { loadHuggingFaceModel, readSafetensorsFile, type RunSummary } from '@rankwise/core';
import { useTestBackend } from '../helpers/backend.js';
import { runCli } from '../helpers/cli.js';
import { normRelativeError } from '../helpers/numeric.js';
import { fixture, logitsOf } from './fixtures.js';

beforeAll(async () => {
  await useTestBackend();
});

test('pipelines/llama-sotu-lora.json runs as shipped, on the tiny fixture: PEFT adapter with HF paths, merged HF model, bits per byte', async () => {
  const out = mkdtempSync(join(tmpdir(), 'rankwise-llama-e2e-'));
  const run = runCli([
    'run',
    'pipelines/llama-sotu-lora.json',
    '--out',
    out,
    '--set',
    'stages.0.context=16',
    '--set',
    'stages.1.data.years=[2001,2004]',
    '--set',
    'stages.1.samples.length=8',
    '--set',
    'stages.4.data.years=[2001,2004]',
    '--set',
    'stages.4.steps=4',
    '--set',
    'stages.4.schedule.warmupSteps=1',
    '--set',
    'stages.4.optimizer.lr=0.01',
    '--set',
    'stages.5.data.years=[2001,2004]',
    '--set',
    'stages.5.samples.length=8',
  ]);
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  const latest = join(out, 'llama-sotu-lora', 'latest');
  const summary = JSON.parse(readFileSync(join(latest, 'summary.json'), 'utf8')) as RunSummary;
  expect(summary.memory.numTensorsAfter).toBe(summary.memory.numTensorsBefore);
  const [zeroShot, tuned] = summary.evaluations;
  for (const e of [zeroShot, tuned]) {
    expect(e.metrics.bitsPerToken).toBeCloseTo(e.metrics.loss / Math.LN2, 10);
    expect(e.metrics.bitsPerByte).toBeGreaterThan(0);
    expect(e.metrics.bitsPerByte).toBeLessThan(e.metrics.bitsPerToken); // a token is more than one byte
    expect(e.samples?.[0].startsWith('Mr. Speaker, ')).toBe(true);
  }
  expect(tuned.metrics.loss).toBeLessThan(zeroShot.metrics.loss);
  // rank 16 on q_proj [32 → 32] and v_proj [32 → 16] of 2 layers
  expect(summary.trainableParams).toBe(2 * 16 * (32 + 32) + 2 * 16 * (32 + 16));
  const config = JSON.parse(readFileSync(join(latest, 'adapter', 'adapter_config.json'), 'utf8'));
  expect(config).toMatchObject({ peft_type: 'LORA', task_type: 'CAUSAL_LM', r: 16, lora_alpha: 32, base_model_name_or_path: 'rankwise/llama-tiny-random' });
  expect(config.target_modules).toEqual([
    'model.layers.0.self_attn.q_proj',
    'model.layers.0.self_attn.v_proj',
    'model.layers.1.self_attn.q_proj',
    'model.layers.1.self_attn.v_proj',
  ]);
  const adapter = await readSafetensorsFile(join(latest, 'adapter', 'adapter_model.safetensors'));
  expect(adapter.tensors.get('base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight')?.shape).toEqual([16, 32]);
  expect(adapter.tensors.get('base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight')?.shape).toEqual([16, 16]);
  // merged/ is a Hugging Face model directory: transformers' names and layout, tokenizer alongside; rankwise reloads it.
  const merged = join(latest, 'merged');
  expect(JSON.parse(readFileSync(join(merged, 'config.json'), 'utf8'))).toMatchObject({
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    torch_dtype: 'float32',
  });
  expect(readFileSync(join(merged, 'tokenizer.json'), 'utf8')).toBe(readFileSync(fixture('llama-tiny/tokenizer.json'), 'utf8'));
  const weights = await readSafetensorsFile(join(merged, 'model.safetensors'));
  expect(weights.metadata.format).toBe('pt');
  expect(weights.tensors.get('model.layers.0.self_attn.v_proj.weight')?.shape).toEqual([16, 32]); // [out, in]
  const { model: reloaded } = await loadHuggingFaceModel(merged);
  const { model: base } = await loadHuggingFaceModel(fixture('llama-tiny'));
  const change = normRelativeError(await logitsOf(reloaded), await logitsOf(base));
  reloaded.dispose();
  base.dispose();
  expect(change).toBeGreaterThan(1e-4); // the merged adapter changed the model
}, 120_000);
