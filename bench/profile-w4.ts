import 'reflect-metadata';
import * as tf from '@tensorflow/tfjs';
import { resolveBackend } from '@rankwise/core';
import { WORKLOADS } from './workloads.js';

const id = process.argv[2] ?? 'W4-lora-qv';
const backend = await resolveBackend('native');
const w = WORKLOADS.find((f) => f.id === id)!.create(backend.createAdam);
await w.step();
const t0 = performance.now();
const profile = await tf.profile(async () => { await w.step(); });
const total = performance.now() - t0;
const by = new Map<string, { ms: number; n: number }>();
for (const k of profile.kernels) {
  const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
  const key = `${k.name} ${JSON.stringify(k.outputShapes[0])}`;
  const e = by.get(key) ?? { ms: 0, n: 0 };
  e.ms += ms; e.n++;
  by.set(key, e);
}
const rows = [...by].sort((a, b) => b[1].ms - a[1].ms).slice(0, 30);
console.log(`total ${total.toFixed(0)} ms, kernels ${profile.kernels.length}, sum ${[...by.values()].reduce((s, e) => s + e.ms, 0).toFixed(0)} ms, peak ${(profile.peakBytes / 2 ** 20).toFixed(0)} MiB`);
for (const [k, e] of rows) console.log(`${e.ms.toFixed(1).padStart(8)} ms ${String(e.n).padStart(4)}× ${k}`);
