import 'reflect-metadata';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { Command } from 'commander';
import { BACKEND_NAMES, describeBackend, resolveBackend, type BackendName, type ResolvedBackend } from '@rankwise/core';
import { WORKLOADS, type Workload } from './workloads.js';

interface Stats {
  median: number;
  min: number;
  max: number;
}

interface WorkloadResult {
  id: string;
  description: string;
  steps: number;
  msPerStep: Stats;
  samplesPerSec: number;
  tokensPerSec?: number;
  gflops: number;
  gflopsPerSec: number;
  trainableParams: number;
  optimizerStateBytes: number;
  tfMemoryBytes: number;
  tfTensors: number;
  peakRssBytes: number;
}

const stats = (values: number[]): Stats => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return { median: sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2, min: sorted[0], max: sorted[sorted.length - 1] };
};

interface Plan {
  warmup: number;
  /** Timed steps at least (unless the budget runs out first; never fewer than 2). */
  minSteps: number;
  /** Keep timing fast workloads until this much time has passed, for a stable median. */
  minTimeMs: number;
  maxSteps: number;
  budgetMs: number;
}

/**
 * Warm-up steps (not timed: first calls compile shaders, fill buffer pools; cut short for very slow workloads),
 * then timed steps: at least `minSteps` and `minTimeMs`, at most `maxSteps`, within `budgetMs`.
 */
async function measure(w: Workload, plan: Plan): Promise<WorkloadResult> {
  const warmStart = performance.now();
  for (let i = 0; i < plan.warmup && performance.now() - warmStart < plan.budgetMs / 4; i++) await w.step();
  const times: number[] = [];
  const start = performance.now();
  for (;;) {
    const elapsed = performance.now() - start;
    const enough = times.length >= plan.minSteps && elapsed >= plan.minTimeMs;
    const outOfTime = times.length >= 2 && elapsed >= plan.budgetMs;
    if (enough || outOfTime || times.length >= plan.maxSteps) break;
    const t0 = performance.now();
    await w.step();
    times.push(performance.now() - t0);
  }
  const ms = stats(times);
  const memory = tf.memory();
  return {
    id: w.id,
    description: w.description,
    steps: times.length,
    msPerStep: ms,
    samplesPerSec: (1000 * w.samples) / ms.median,
    ...(w.tokens ? { tokensPerSec: (1000 * w.tokens) / ms.median } : {}),
    gflops: w.flops / 1e9,
    gflopsPerSec: w.flops / 1e6 / ms.median,
    trainableParams: w.trainableParams,
    optimizerStateBytes: w.optimizerStateBytes(),
    tfMemoryBytes: memory.numBytes,
    tfTensors: memory.numTensors,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
  };
}

function table(rows: WorkloadResult[]): string {
  const header = ['workload', 'ms/step (median)', 'min', 'max', 'steps', 'samples/s', 'tokens/s', 'GFLOP/s', 'trainable', 'opt state', 'tf MB'];
  const lines = rows.map((r) => [
    r.id,
    r.msPerStep.median.toFixed(1),
    r.msPerStep.min.toFixed(1),
    r.msPerStep.max.toFixed(1),
    String(r.steps),
    r.samplesPerSec.toFixed(0),
    r.tokensPerSec ? r.tokensPerSec.toFixed(0) : '',
    r.gflopsPerSec.toFixed(1),
    r.trainableParams.toLocaleString('en-US'),
    `${(r.optimizerStateBytes / 1024).toFixed(0)} KiB`,
    (r.tfMemoryBytes / 2 ** 20).toFixed(1),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [fmt(header), ...lines.map(fmt)].join('\n');
}

/**
 * Which backends to time: the named ones, or every one that starts (a GPU only on real hardware). Each is started
 * here, once, so a named backend that cannot start fails before anything is timed.
 */
async function backendsToRun(names: BackendName[] | null): Promise<ResolvedBackend[]> {
  const out: ResolvedBackend[] = [];
  for (const name of names ?? [...BACKEND_NAMES]) {
    try {
      const backend = await resolveBackend(name);
      // The WebGPU adapter report's `software` already includes Dawn's fallback bit.
      if (!names && backend.kind === 'gpu' && backend.info.software === true) {
        console.log(`skip ${name}: software adapter (${backend.info.description ?? backend.info.device}); pass --backend ${name} to time it`);
        continue;
      }
      out.push(backend);
    } catch (error) {
      console.log(`skip ${name}: ${(error as Error).message}`);
      if (names) throw error;
    }
  }
  return out;
}

const program = new Command('bench')
  .description('time the fixed workloads (W1 MLP, W2 GPT, W3 inference, W4 Llama at SmolLM2-135M size, W5 its generation) on every available backend')
  .option('--backend <names>', `comma-separated backends (${BACKEND_NAMES.join(', ')}); default: every one available`)
  .option('--workload <ids>', 'comma-separated workload ids or prefixes (W1, W2-lora, W3, W4, W5)')
  .option('--quick', 'fewer steps (a smoke run)')
  .option('--out <dir>', 'where to write <date>-<backend>.json', 'bench/results')
  .parse();
const opts = program.opts<{ backend?: string; workload?: string; quick?: boolean; out: string }>();
const requested = opts.backend?.split(',').map((b) => b.trim()) ?? null;
for (const b of requested ?? []) {
  if (!(BACKEND_NAMES as readonly string[]).includes(b)) {
    console.error(`✖ --backend: found "${b}", allowed: ${BACKEND_NAMES.join(', ')}`);
    process.exit(2);
  }
}
const wanted = opts.workload?.split(',').map((w) => w.trim());
const workloads = WORKLOADS.filter((w) => !wanted || wanted.some((p) => w.id.startsWith(p)));
if (workloads.length === 0) {
  console.error(`✖ --workload: "${opts.workload}" matches none of ${WORKLOADS.map((w) => w.id).join(', ')}`);
  process.exit(2);
}
tf.enableProdMode();
const plan: Plan = opts.quick
  ? { warmup: 1, minSteps: 5, minTimeMs: 1_000, maxSteps: 500, budgetMs: 8_000 }
  : { warmup: 3, minSteps: 20, minTimeMs: 5_000, maxSteps: 2_000, budgetMs: 60_000 };
const date = new Date().toISOString().slice(0, 10);
for (const backend of await backendsToRun(requested as BackendName[] | null)) {
  // Started by backendsToRun; a later start made another backend current, so select this one again.
  if (!(await tf.setBackend(backend.tfBackend))) throw new Error(`tf.setBackend('${backend.tfBackend}') returned false`);
  await tf.ready();
  console.log(`\n${describeBackend(backend)}`);
  const results: WorkloadResult[] = [];
  for (const factory of workloads) {
    const workload = factory.create(backend.createAdam);
    try {
      const result = await measure(workload, { ...plan, ...factory.plan });
      results.push(result);
      console.log(`  ${result.id}: ${result.msPerStep.median.toFixed(1)} ms/step (${result.steps} steps, ${result.gflopsPerSec.toFixed(1)} GFLOP/s)`);
    } finally {
      workload.dispose();
    }
  }
  console.log(`\n${table(results)}`);
  const file = join(opts.out, `${date}-${backend.name}${opts.quick ? '-quick' : ''}.json`);
  await mkdir(opts.out, { recursive: true });
  const { name, tfBackend, reason, info, skipped } = backend;
  await writeFile(
    file,
    `${JSON.stringify(
      {
        backend: name,
        tfBackend,
        reason,
        info,
        skipped,
        date: new Date().toISOString(),
        quick: Boolean(opts.quick),
        node: process.version,
        cpus: cpus()
          .map((c) => c.model)
          .slice(0, 1),
        workloads: results,
      },
      null,
      2,
    )}\n`,
  );
  console.log(`wrote ${file}`);
}
