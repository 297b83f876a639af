import { spawnSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { expect, test } from 'vitest';

// The W4 comparison's PyTorch script defaults to shared/bench/ beside the checkout, wherever the clone is.
test('bench/w4-compare.ts finds the PyTorch reference relative to the repository, not at a fixed absolute path', () => {
  const result = spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', 'bench/w4-compare.ts', '--help'], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(result.status).toBe(0);
  const shown = /default: "([^"]+torch_llama\.py)"/.exec(result.stdout.replace(/\s+/g, ' '));
  expect(shown).not.toBeNull();
  expect(resolve(shown![1])).toBe(resolve(dirname(process.cwd()), 'shared/bench/torch_llama.py'));
});
