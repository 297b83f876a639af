#!/usr/bin/env node
// Which folders of packages/core/src import which (file-level edges), and the edges that would point
// "upward" across the planned package split (models ← lora ← formats ← core). Usage: node scripts/core-deps.mjs [--files]
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve('packages/core/src');
const files = (d) =>
  readdirSync(d).flatMap((n) => {
    const p = join(d, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
const spec = /(?:import|export)\s+(type\s+)?(?:[^'"]*?\sfrom\s+)?['"](\.[^'"]+)['"]/g;
const folder = (f) => {
  const r = relative(root, f).split('/');
  return r.length > 1 ? r[0] : r[0];
};
// planned package of a core file (by folder, with per-file overrides given in scripts/split-core.mjs's MAP)
let layerOf = (f) => ({ nn: 'models', lora: 'lora', io: 'formats' })[folder(f)] ?? 'core';
try {
  const m = await import(resolve('scripts/split-core-map.mjs'));
  layerOf = (f) => m.packageOf(relative(root, f));
} catch {}
const rank = { models: 0, lora: 1, formats: 2, core: 3 };
const edges = new Map();
const up = [];
for (const f of files(root)) {
  const text = readFileSync(f, 'utf8');
  for (const m of text.matchAll(spec)) {
    const target = resolve(dirname(f), m[2].replace(/\.js$/, '.ts'));
    const a = folder(f),
      b = folder(target);
    if (a !== b) {
      const k = `${a} → ${b}`;
      edges.set(k, (edges.get(k) ?? 0) + 1);
    }
    const la = layerOf(f),
      lb = layerOf(target);
    if (rank[lb] > rank[la]) up.push(`${relative(root, f)} (${la}) → ${relative(root, target)} (${lb})${m[1] ? ' [type]' : ''}`);
  }
}
console.log('folder edges (count of imports):');
for (const [k, n] of [...edges].sort()) console.log(`  ${k}  ${n}`);
console.log(`\nupward edges across the split (${up.length}):`);
for (const u of up) console.log(`  ${u}`);
process.exitCode = up.length ? 1 : 0;
