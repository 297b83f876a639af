import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, test, vi } from 'vitest';
import { parseAdapterSpec, readAdapter } from '@rankwise/formats';
import { combineCommand } from '../../packages/cli/src/commands/adapters.js';
import { ADAPTER_FIXTURES } from '../helpers/adapter-model.js';
import { useTestBackend } from '../helpers/backend.js';
import { runCli } from '../helpers/cli.js';
import { normRelativeError, take } from '../helpers/numeric.js';

beforeAll(async () => {
  await useTestBackend();
});

const reference = JSON.parse(await readFile(join(ADAPTER_FIXTURES, 'combine-reference.json'), 'utf8')) as {
  cases: Array<{ id: string; sites: Record<string, { delta: { data: number[] } }> }>;
};
const source = (name: string) => `${name}=${join(ADAPTER_FIXTURES, name)}`;

/** stderr lines printed while `fn` runs. */
async function errorsOf(fn: () => Promise<unknown>): Promise<{ result: unknown; errors: string[] }> {
  const spy = vi.spyOn(console, 'error').mockImplementation(() => {});
  const log = vi.spyOn(console, 'log').mockImplementation(() => {});
  try {
    const result = await fn();
    return { result, errors: spy.mock.calls.map((c) => String(c[0])) };
  } finally {
    spy.mockRestore();
    log.mockRestore();
  }
}

describe('rankwise adapters combine (PEFT add_weighted_adapter on folders, no base model)', () => {
  test("svd of a, b, c: the written PEFT adapter's ΔW equals the PyTorch reference (scripts/peft-reference/combine.py)", async () => {
    const out = join(await mkdtemp(join(tmpdir(), 'rankwise-cli-combine-')), 'mix');
    const { result } = await errorsOf(() => combineCommand({ adapter: [source('a'), source('b'), source('c')], weights: '0.6,0.8,-0.5', out }));
    expect(result).toBe(0);
    const want = reference.cases.find((c) => c.id === 'svd')!.sites;
    const sites = await readAdapter(out);
    expect(sites.map((s) => [s.path, s.r, s.alpha, s.rslora])).toEqual([
      ['emb', 4, 4, false],
      ['proj', 4, 4, false],
      ['head', 4, 4, false],
    ]);
    for (const s of sites) {
      // PEFT layout: linear lora_A [r, in], lora_B [out, r]; embedding lora_embedding_A [r, n], _B [d, r]: ΔW = Aᵀ·Bᵀ [fanIn, out]
      const delta = tf.tidy(() => tf.matMul(tf.tensor2d(s.loraA, [s.r, s.inFeatures]), tf.tensor2d(s.loraB, [s.outFeatures, s.r]), true, true)); // [fanIn, r]·[r, out]
      expect(normRelativeError(await take(delta), want[s.path].delta.data)).toBeLessThan(2e-6);
    }
  });

  test('invalid input exits 2 naming the flag: rank mismatch for linear, a bad weight, a missing folder; nothing written', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rankwise-cli-combine-'));
    const linear = await errorsOf(() => combineCommand({ adapter: [source('a'), source('c')], weights: '1,1', combination: 'linear', out: join(dir, 'x') }));
    expect(linear).toEqual({
      result: 2,
      errors: [expect.stringMatching(/^✖ --adapter: "linear" combines A's and B's directly, .* site "proj" has r = 4 in "a", r = 2 in "c"/)],
    });
    const weight = await errorsOf(() => combineCommand({ adapter: [source('a'), source('b')], weights: '1,x', out: join(dir, 'y') }));
    expect(weight).toEqual({ result: 2, errors: ['✖ --weights: found "x"; allowed: a number'] });
    const density = await errorsOf(() =>
      combineCommand({ adapter: [source('a'), source('b')], weights: '1,1', combination: 'dare_ties', density: '2', out: join(dir, 'z') }),
    );
    expect(density).toEqual({ result: 2, errors: ['✖ --density: found 2; "dare_ties" needs a density in [0, 1] (the fraction of values kept)'] });
    await expect(readFile(join(dir, 'x', 'adapter_config.json'))).rejects.toThrow('ENOENT');
  });

  test('the command is registered: a missing folder exits 2 with its path', () => {
    const result = runCli([
      'adapters',
      'combine',
      '--adapter',
      `a=${join(ADAPTER_FIXTURES, 'nope')}`,
      '--weights',
      '1',
      '--out',
      join(tmpdir(), 'rankwise-never'),
    ]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(`${join(ADAPTER_FIXTURES, 'nope')}: not an adapter directory (adapter_config.json missing)`);
  });

  test('adapter specs: name=folder, a bare folder is "default" (unless a name is required), bad names refused', () => {
    expect(parseAdapterSpec('sql=./runs/a', { cwd: '/w' })).toEqual({ name: 'sql', dir: '/w/runs/a' });
    expect(parseAdapterSpec('./runs/b')).toEqual({ name: 'default', dir: resolve('./runs/b') });
    expect(() => parseAdapterSpec('./runs/b', { requireName: true })).toThrow(
      'found "./runs/b"; allowed: <name>=<adapter folder>, e.g. sql=./runs/sql/adapter',
    );
    expect(() => parseAdapterSpec('my sql=./a')).toThrow('adapter name "my sql" is not allowed; allowed: 1 to 64 letters, digits, "_" or "-"');
    expect(() => parseAdapterSpec('sql=')).toThrow('found "sql="');
  });
});
