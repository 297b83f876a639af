/**
 * Other process-wide configurations, each in a fresh process: the portable (non-AVX2) kernels on one
 * thread, and sgemm threaded by OpenBLAS instead of the pool. Results match cpu to 1e-5 (scale-relative).
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

import { describe, expect, it } from 'vitest';

import { skipReason } from './helpers.js';

const root = resolve(import.meta.dirname, '../..');

function runChild(env: Record<string, string>): { info: Record<string, unknown>; errors: Record<string, number> } {
  const child = spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', 'test/backend-native/fixtures/compare-in-child.ts'], {
    cwd: root,
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
  const line = child.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`child failed: ${child.stderr}`);
  const parsed = JSON.parse(line.slice(7)) as { error?: string; info: Record<string, unknown>; errors: Record<string, number> };
  if (parsed.error) throw new Error(parsed.error);
  return parsed;
}

describe.skipIf(skipReason !== '')(`native backend configurations ${skipReason}`, () => {
  it('portable kernels, one thread (RANKWISE_NATIVE_BASELINE=1 RANKWISE_THREADS=1)', () => {
    const { info, errors } = runChild({ RANKWISE_NATIVE_BASELINE: '1', RANKWISE_THREADS: '1' });
    expect(info).toMatchObject({ isa: 'baseline', threads: 1 });
    for (const [name, err] of Object.entries(errors)) expect(err, name).toBeLessThan(1e-5);
  });

  it('sgemm threaded by OpenBLAS (RANKWISE_GEMM_THREADS=blas)', () => {
    const { info, errors } = runChild({ RANKWISE_GEMM_THREADS: 'blas' });
    expect(info).toMatchObject({ gemmThreading: 'blas' });
    for (const [name, err] of Object.entries(errors)) expect(err, name).toBeLessThan(1e-5);
  });
});
