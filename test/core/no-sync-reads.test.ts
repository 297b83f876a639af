import { readFileSync } from 'node:fs';
import fg from 'fast-glob';
import { expect, test } from 'vitest';

test('library code never reads tensors synchronously (WebGPU in Node cannot): no dataSync / arraySync / bufferSync', async () => {
  const files = await fg(['packages/*/src/**/*.ts', 'plugins/*/src/**/*.ts', 'bench/**/*.ts']);
  expect(files.length).toBeGreaterThan(50);
  const offenders = files.filter((f) => /\.(dataSync|arraySync|bufferSync)\(/.test(readFileSync(f, 'utf8')));
  expect(offenders).toEqual([]);
});
