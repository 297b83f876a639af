import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import type { LoadStageSpec, Pipeline, RunSummary } from '@rankwise/core';
import { runCli } from '../helpers/cli.js';
import { tinyCopies } from '../helpers/tiny-pipelines.js';

/** Text stages read less: short samples, few validation windows. */
function shrinkText(p: Pipeline): void {
  for (const s of p.stages) {
    if ('data' in s && s.data.dataset !== 'digits') (s.data as { maxWindows?: number }).maxWindows = 8;
    if (s.stage === 'evaluate' && s.samples) s.samples.length = 20;
    if (s.stage === 'train') s.batchSize = 8;
  }
}

test('e2e: moby-base → sotu-lora with tiny sizes through the CLI: bits per char, samples, adapter, no leaks', async () => {
  const { dir } = await tinyCopies({
    'pipelines/moby-base.json': {
      steps: 12,
      limit: 0,
      edit: (p) => {
        (p.stages[0] as LoadStageSpec).config = { vocabSize: 96, dim: 16, layers: 1, heads: 2, context: 16 };
        shrinkText(p);
      },
    },
    'pipelines/sotu-lora.json': { steps: 10, limit: 0, edit: shrinkText },
  });
  const out = join(dir, 'runs');
  const run = runCli(['run', join(dir, 'sotu-lora.json'), '--out', out]);
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  expect(run.stdout).toContain('evaluate[zero-shot]: sample:');
  const summary = JSON.parse(readFileSync(join(out, 'sotu-lora', 'latest', 'summary.json'), 'utf8')) as RunSummary;
  expect(summary.evaluations.map((e) => e.label)).toEqual(['zero-shot', 'sotu', 'merged', 'moby-after']);
  for (const e of summary.evaluations) {
    expect(e.metrics.bitsPerChar).toBeCloseTo(e.metrics.loss / Math.LN2, 10);
    expect(e.metrics.perplexity).toBeCloseTo(Math.exp(e.metrics.loss), 8);
    expect(e.metrics.tokens).toBe(8 * 16); // 8 windows of the 16-token context
  }
  const [zeroShot, lora, merged] = summary.evaluations;
  expect(zeroShot.samples?.[0].startsWith('Mr. Speaker, ')).toBe(true);
  expect(zeroShot.samples?.[0]).toHaveLength('Mr. Speaker, '.length + 20);
  expect(lora.samples).toHaveLength(1);
  expect(Math.abs(merged.metrics.loss - lora.metrics.loss) / lora.metrics.loss).toBeLessThan(1e-5);
  expect(summary.memory.numTensorsAfter).toBe(summary.memory.numTensorsBefore);
  // rank 8 on q and v of one block: 2 · 8 · (16 + 16)
  expect(summary.trainableParams).toBe(2 * 8 * 32);
  const config = JSON.parse(readFileSync(join(out, 'sotu-lora', 'latest', 'adapter', 'adapter_config.json'), 'utf8'));
  expect(config.target_modules).toEqual(['blocks.0.attn.q', 'blocks.0.attn.v']);
  const base = JSON.parse(readFileSync(join(out, 'moby-base', 'latest', 'merged', 'config.json'), 'utf8'));
  expect(base.extra.vocabulary.chars.length).toBe(89); // Moby Dick's characters; id 0 is <unk>
});
