import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

// Each public entry must import on its own in a fresh process, with nothing loaded before it: a library user's
// first `import` is the entry point. (The grid once failed with tsyringe's "requires a reflect polyfill" because
// core/internal reached tsyringe before anything loaded reflect-metadata.)
const ENTRIES = [
  '@rankwise/core',
  '@rankwise/core/internal',
  '@rankwise/core/plugin',
  '@rankwise/grid',
  '@rankwise/cli',
  '@rankwise/observe',
  // the packages split out of core
  '@rankwise/models',
  '@rankwise/lora',
  '@rankwise/formats',
];

describe('package entries', () => {
  it.each(ENTRIES)('%s imports in a fresh process', (entry) => {
    const code = `import(${JSON.stringify(entry)}).then(() => console.log('imported'), (e) => { console.error(e.message); process.exit(3); })`;
    const result = spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', '--input-type=module', '-e', code], { encoding: 'utf8' });
    expect(result.stderr).not.toMatch(/reflect polyfill/);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout.trim()).toBe('imported');
  });
});
