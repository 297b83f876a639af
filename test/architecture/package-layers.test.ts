import { relative, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { importsOf, resolveRelative, sourceFiles } from './imports.js';

// Core split by concern (docs/packages.md): models ← lora ← formats ← core, arrows one way, lowest first.
const layers: readonly string[] = ['models', 'lora', 'formats', 'core'];
const rank = (layer: string): number => layers.indexOf(layer);

/** Every arrow between two layers: importing file, its layer, the layer it imports. */
function arrows(): Array<{ file: string; from: string; to: string }> {
  const found: Array<{ file: string; from: string; to: string }> = [];
  for (const layer of layers) {
    const src = resolve('packages', layer, 'src');
    for (const file of sourceFiles(src)) {
      for (const { specifier } of importsOf(file)) {
        const target = resolveRelative(file, specifier);
        const name = /^@rankwise\/([^/]+)/.exec(specifier)?.[1];
        if (target) found.push({ file: relative('.', file), from: layer, to: relative(src, target).startsWith('..') ? `outside ${specifier}` : layer });
        else if (name && layers.includes(name)) found.push({ file: relative('.', file), from: layer, to: name });
      }
    }
  }
  return found;
}

describe(`core's layers point one way (packages: ${layers.join(' ← ')})`, () => {
  const all = arrows();

  test('the layers are really connected (the check sees real imports)', () => {
    const pairs = new Set(all.filter((a) => a.from !== a.to).map((a) => `${a.from}→${a.to}`));
    for (const pair of ['lora→models', 'formats→lora', 'formats→models', 'core→formats', 'core→models']) expect(pairs).toContain(pair);
  });

  test('no layer imports a higher one, and no file reaches into another package by a relative path', () => {
    const wrong = all.filter((a) => !layers.includes(a.to) || rank(a.to) > rank(a.from)).map((a) => `${a.file}: ${a.from} → ${a.to}`);
    expect(wrong).toEqual([]);
  });
});
