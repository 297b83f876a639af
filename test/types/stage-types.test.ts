import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { expect, test } from 'vitest';

// The stage types are checked by the compiler: stage-types.ts holds what must compile and, marked
// `@ts-expect-error`, what must not (a wrong option of a built-in or a declared stage package, a misspelt name).
test('stage packages declare their types: Pipeline and session.stage() check options and type results', () => {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', 'test/types/tsconfig.json'], { encoding: 'utf8', timeout: 120_000 });
  expect(result.stdout + result.stderr).toBe('');
  expect(result.status).toBe(0);
}, 150_000);
