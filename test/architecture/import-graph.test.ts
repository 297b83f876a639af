import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { cycles, folderOf, importsOf, resolveRelative, sourceFiles } from './imports.js';

const core = resolve('packages/core/src');
/** Entry files (barrels) re-export every folder; they are not a folder of their own. */
const ENTRIES = new Set(['index.ts', 'plugin.ts', 'internal.ts'].map((f) => resolve(core, f)));

/** Folder → folders it imports (type-only imports count: they are arrows between folders too). */
function folderGraph(): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const file of sourceFiles(core)) {
    if (ENTRIES.has(file)) continue;
    const from = folderOf(core, file);
    if (!graph.has(from)) graph.set(from, new Set());
    for (const { specifier } of importsOf(file)) {
      const target = resolveRelative(file, specifier);
      if (!target || ENTRIES.has(target)) continue;
      const to = folderOf(core, target);
      if (to !== from) graph.get(from)!.add(to);
    }
  }
  return graph;
}

/** The source file of an entry of a package split out of core (`@rankwise/models`, `@rankwise/models/description` …). */
function splitPackageEntry(specifier: string): string | null {
  const match = /^@rankwise\/(models|lora|formats)(\/.+)?$/.exec(specifier);
  if (!match) return null;
  const manifest = JSON.parse(readFileSync(resolve('packages', match[1], 'package.json'), 'utf8')) as { exports: Record<string, { source: string }> };
  const entry = manifest.exports[`.${match[2] ?? ''}`];
  return entry ? resolve('packages', match[1], entry.source) : null;
}

/** Files reachable from `entry` through run-time imports (type-only imports are erased), plus bare packages. */
function runtimeClosure(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string): void => {
    if (files.has(file)) return;
    files.add(file);
    for (const { specifier, typeOnly } of importsOf(file)) {
      if (typeOnly) continue;
      const target = resolveRelative(file, specifier) ?? splitPackageEntry(specifier);
      if (target) visit(target);
      else packages.add(specifier);
    }
  };
  visit(entry);
  return { files, packages };
}

describe('imports point one way', () => {
  test('the parser sees a cycle when there is one (the check can fail)', () => {
    const graph = new Map([
      ['a', new Set(['b'])],
      ['b', new Set(['c'])],
      ['c', new Set(['a'])],
      ['d', new Set(['a'])],
    ]);
    expect(cycles(graph)).toEqual([['a', 'b', 'c', 'a']]);
    expect(
      cycles(
        new Map([
          ['a', new Set(['b'])],
          ['b', new Set<string>()],
        ]),
      ),
    ).toEqual([]);
  });

  test('no folder of core imports a folder that imports it back (no folder-level cycles)', () => {
    const graph = folderGraph();
    expect(graph.get('pipeline')?.has('stages')).toBe(true); // the graph is real: pipeline → stages
    const found = cycles(graph).map((c) => c.join(' → '));
    expect(found).toEqual([]);
  });

  test('stages use the stage contract, never the pipeline layer; train and tasks never reach stages or pipeline', () => {
    const graph = folderGraph();
    expect([...graph.get('stages')!].sort()).not.toContain('pipeline');
    for (const low of ['train', 'tasks', 'lora', 'nn', 'io', 'contracts', 'plugins']) {
      expect([...(graph.get(low) ?? [])].filter((f) => f === 'stages' || f === 'pipeline')).toEqual([]);
    }
  });

  test('@rankwise/core/plugin loads no tfjs, ajv or tsyringe at run time', () => {
    const { files, packages } = runtimeClosure(resolve(core, 'plugin.ts'));
    expect(files.size).toBeGreaterThan(3);
    expect([...packages].filter((p) => /tensorflow|ajv|tsyringe|reflect-metadata/.test(p))).toEqual([]);
    // …while the root entry does load them (the check sees real imports)
    expect([...runtimeClosure(resolve(core, 'index.ts')).packages]).toEqual(expect.arrayContaining(['@tensorflow/tfjs', 'tsyringe']));
  });

  test('placement plugins import only @rankwise/core/plugin from core', () => {
    for (const plugin of ['plugins/placement-pattern/src', 'plugins/placement-attention/src']) {
      const specifiers = sourceFiles(resolve(plugin)).flatMap((f) => importsOf(f).map((i) => i.specifier));
      expect(specifiers.filter((s) => s.startsWith('@rankwise/'))).toEqual(expect.arrayContaining(['@rankwise/core/plugin']));
      expect(specifiers.filter((s) => s.startsWith('@rankwise/') && s !== '@rankwise/core/plugin')).toEqual([]);
      expect(specifiers.filter((s) => /tensorflow|ajv|tsyringe/.test(s))).toEqual([]);
    }
  });
});
