/**
 * Where a training step's time goes: runs one warm-up step of a workload, then one profiled step, and prints the
 * kernels grouped by name and output shape, slowest first, with the step's peak tfjs bytes.
 *
 *   node --conditions=source --import tsx bench/profile.ts <workload id> [--backend native] [--top 30]
 *   W4_LAYERS=2 node --conditions=source --import tsx bench/profile.ts W4-lora-qv      # the Llama at 2 layers
 */
import 'reflect-metadata';
import * as tf from '@tensorflow/tfjs';
import { Command } from 'commander';
import { BACKEND_NAMES, describeBackend, resolveBackend, type BackendName } from '@rankwise/core';
import { WORKLOADS } from './workloads.js';

const program = new Command('profile')
  .argument('<workload>', `one of ${WORKLOADS.map((w) => w.id).join(', ')}`)
  .option('--backend <name>', `a backend (${BACKEND_NAMES.join(', ')})`, 'native')
  .option('--top <n>', 'rows to print', '30')
  .parse();
const [id] = program.args;
const opts = program.opts<{ backend: string; top: string }>();
const factory = WORKLOADS.find((w) => w.id === id);
if (!factory) {
  console.error(`✖ workload: found "${id}", allowed: ${WORKLOADS.map((w) => w.id).join(', ')}`);
  process.exit(2);
}
if (!(BACKEND_NAMES as readonly string[]).includes(opts.backend)) {
  console.error(`✖ --backend: found "${opts.backend}", allowed: ${BACKEND_NAMES.join(', ')}`);
  process.exit(2);
}
const backend = await resolveBackend(opts.backend as BackendName);
tf.enableProdMode();
console.log(describeBackend(backend));
const workload = factory.create(backend.createAdam);
await workload.step();
const start = performance.now();
const profile = await tf.profile(async () => {
  await workload.step();
});
const total = performance.now() - start;
const byKernel = new Map<string, { ms: number; calls: number }>();
for (const k of profile.kernels) {
  const key = `${k.name} ${JSON.stringify(k.outputShapes[0])}`;
  const entry = byKernel.get(key) ?? { ms: 0, calls: 0 };
  entry.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
  entry.calls++;
  byKernel.set(key, entry);
}
const kernelMs = [...byKernel.values()].reduce((s, e) => s + e.ms, 0);
console.log(
  `${id}: step ${total.toFixed(0)} ms, ${profile.kernels.length} kernels taking ${kernelMs.toFixed(0)} ms, peak ${(profile.peakBytes / 2 ** 20).toFixed(0)} MiB of tensors`,
);
for (const [key, e] of [...byKernel].sort((a, b) => b[1].ms - a[1].ms).slice(0, Number(opts.top))) {
  console.log(`${e.ms.toFixed(1).padStart(9)} ms ${String(e.calls).padStart(5)}× ${key}`);
}
workload.dispose();
