import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { expect, test } from 'vitest';

/** docs/from-code.md (the README's "use rankwise from TypeScript" guide): its first ts block, exactly as written. */
function fromCodeExample(): string {
  const guide = readFileSync('docs/from-code.md', 'utf8');
  const block = /```ts\n([\s\S]*?)```/.exec(guide);
  if (!block) throw new Error('docs/from-code.md has no ts block');
  return block[1];
}

test('the docs/from-code.md example runs as written: pipeline object, baseDir, session results, a replaced service', () => {
  const code = fromCodeExample();
  expect(code).toContain('rankwise.session(');
  // appended checks: the example's own variables after it ran
  const checks = `
if (!lines.some((l) => l.startsWith('evaluate[base]'))) throw new Error('the replaced progress reporter got no lines');
if (summary.evaluations[0].label !== 'base' || summary.evaluations[0].stage !== 'evaluate' || summary.evaluations[0].index !== 2) throw new Error('evaluation record shape');
if (sites.length !== 1 || sites.some((s) => s.r !== 4 || s.alpha !== 8)) throw new Error('inject result: ' + JSON.stringify(sites));
if (!(training.steps === 30 && training.finalLoss > 0)) throw new Error('train result');
if (!(metrics.accuracy > 0 && metrics.accuracy <= 1)) throw new Error('evaluate result');
console.log('README-OK', summary.backend.name, JSON.stringify(summary.evaluations[0].metrics));
`;
  const file = 'test/.readme-from-code.ts';
  writeFileSync(file, code + checks);
  try {
    const result = spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', file], { encoding: 'utf8', timeout: 120_000 });
    expect(result.stderr).not.toMatch(/Error/);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('README-OK');
  } finally {
    rmSync(file, { force: true });
    rmSync('runs/from-code', { recursive: true, force: true });
    rmSync('runs/from-code-reload', { recursive: true, force: true });
  }
}, 150_000);
