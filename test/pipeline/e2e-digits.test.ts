import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import type { RunSummary } from '@rankwise/core';
import { decodeSafetensors } from '@rankwise/formats';
import { runCli } from '../helpers/cli.js';
import { tinyCopies } from '../helpers/tiny-pipelines.js';

const cli = (args: string[]) => runCli(args);

describe('e2e: digits-base → digits-lora through the CLI', () => {
  test('runs both pipelines, writes summary, metrics, adapter (PEFT layout) and merged model, leaks no tensors', async () => {
    const { dir, path } = await tinyCopies({
      'pipelines/digits-base.json': { steps: 40, limit: 600 },
      'pipelines/digits-lora.json': { steps: 30, limit: 400 },
    });
    const out = join(dir, 'runs');
    const first = cli(['run', path('digits-lora.json'), '--out', out]);
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    expect(first.stdout).toContain('has no up-to-date result'); // the base ran first
    expect(first.stdout).toMatch(/✔ digits-lora completed in [\d.]+ s on \w+/);

    const latest = join(out, 'digits-lora', 'latest');
    expect(readlinkSync(latest)).toMatch(/^\d{8}-\d{6}/);
    const summary = JSON.parse(readFileSync(join(latest, 'summary.json'), 'utf8')) as RunSummary;
    expect(summary.status).toBe('completed');
    expect(summary.pipeline).toBe('digits-lora');
    expect(summary.seed).toBe(7);
    expect(summary.trainableParams).toBe(8 * (784 + 256) + 8 * (256 + 256) + 8 * (256 + 10));
    expect(summary.totalParams).toBe(269_322 + summary.trainableParams);
    expect(summary.evaluations.map((e) => e.label)).toEqual(['zero-shot', 'lora', 'merged']);
    for (const e of summary.evaluations) expect(Object.keys(e.metrics).sort()).toEqual(['accuracy', 'loss']);
    // merged outputs equal unmerged ones up to float rounding: the same predictions on 400 test digits
    const [, lora, merged] = summary.evaluations;
    expect(merged.metrics.accuracy).toBe(lora.metrics.accuracy);
    expect(Math.abs(merged.metrics.loss - lora.metrics.loss)).toBeLessThan(1e-4);
    expect(summary.memory.numTensorsAfter).toBe(summary.memory.numTensorsBefore);
    expect(summary.durationMs).toBeGreaterThan(0);
    expect(summary.backend.name).toBeTruthy();

    const metrics = readFileSync(join(latest, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string; step?: number });
    expect(metrics.filter((m) => m.event === 'train').map((m) => m.step)).toEqual([5, 10, 15, 20, 25, 30]);
    expect(JSON.parse(readFileSync(join(latest, 'pipeline.json'), 'utf8')).stages[4].steps).toBe(30);

    const config = JSON.parse(readFileSync(join(latest, 'adapter', 'adapter_config.json'), 'utf8'));
    expect(config).toMatchObject({ peft_type: 'LORA', r: 8, lora_alpha: 16, target_modules: ['layers.0', 'layers.1', 'layers.2'], use_rslora: false });
    const weights = decodeSafetensors(readFileSync(join(latest, 'adapter', 'adapter_model.safetensors')));
    expect(Object.fromEntries([...weights.tensors].map(([k, v]) => [k, v.shape]))).toEqual({
      'base_model.model.layers.0.lora_A.weight': [8, 784],
      'base_model.model.layers.0.lora_B.weight': [256, 8],
      'base_model.model.layers.1.lora_A.weight': [8, 256],
      'base_model.model.layers.1.lora_B.weight': [256, 8],
      'base_model.model.layers.2.lora_A.weight': [8, 256],
      'base_model.model.layers.2.lora_B.weight': [10, 8],
    });
    expect(existsSync(join(latest, 'merged', 'model.safetensors'))).toBe(true);
    const base = JSON.parse(readFileSync(join(out, 'digits-base', 'latest', 'summary.json'), 'utf8')) as RunSummary;
    expect(base.memory.numTensorsAfter).toBe(base.memory.numTensorsBefore);
    expect(base.evaluations[0].label).toBe('base');

    // Second run: the base is up to date (same content hash), so it is loaded, not retrained.
    const second = cli(['run', path('digits-lora.json'), '--out', out, '--quiet']);
    expect(second.status).toBe(0);
    const again = JSON.parse(readFileSync(join(out, 'digits-lora', 'latest', 'summary.json'), 'utf8')) as RunSummary;
    expect(again.evaluations).toEqual(summary.evaluations); // same seed, same backend ⇒ same numbers
    expect(readdirSync(join(out, 'digits-base')).sort()).toEqual([readlinkSync(join(out, 'digits-base', 'latest')), 'latest']);
  });
});
