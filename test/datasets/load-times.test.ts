/**
 * Load times, measured cold (first load in this test process: read + parse) and warm (cached).
 * These loads run at the start of every pipeline run, so they must stay well under a few seconds.
 */
import { describe, expect, test } from 'vitest';
import { loadDigits, loadText } from '@rankwise/datasets';

async function timed<T>(load: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await load();
  return { value, ms: performance.now() - start };
}

const COLD_LIMIT_MS = 5_000;
const report: string[] = [];

describe('load times', () => {
  test('digits: all 10,000 images (train + test)', async () => {
    const both = () => Promise.all([loadDigits({ split: 'train', seed: 0 }), loadDigits({ split: 'test', seed: 0 })]);
    const cold = await timed(both);
    const warm = await timed(both);
    expect(cold.value[0].n + cold.value[1].n).toBe(10_000);
    report.push(`digits 10,000: cold ${cold.ms.toFixed(0)} ms, warm ${warm.ms.toFixed(0)} ms`);
    expect(cold.ms).toBeLessThan(COLD_LIMIT_MS);
    expect(warm.ms).toBeLessThan(cold.ms);
  });

  test('moby-dick', async () => {
    const cold = await timed(() => loadText({ corpus: 'moby-dick' }));
    const warm = await timed(() => loadText({ corpus: 'moby-dick' }));
    expect(cold.value.text.length).toBe(1_217_395);
    report.push(`moby-dick: cold ${cold.ms.toFixed(0)} ms, warm ${warm.ms.toFixed(1)} ms`);
    expect(cold.ms).toBeLessThan(COLD_LIMIT_MS);
  });

  test('sotu, all 233 addresses', async () => {
    const cold = await timed(() => loadText({ corpus: 'sotu' }));
    const warm = await timed(() => loadText({ corpus: 'sotu' }));
    expect(cold.value.documents).toBe(233);
    report.push(`sotu full: cold ${cold.ms.toFixed(0)} ms, warm ${warm.ms.toFixed(1)} ms`);
    console.log(`[datasets] load times — ${report.join('; ')}`);
    expect(cold.ms).toBeLessThan(COLD_LIMIT_MS);
  });
});
