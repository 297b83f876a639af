/**
 * W5: generation with the KV cache from the W4 model (SmolLM2-135M's shape, random weights): a 256-token prompt
 * prefilled in one pass, then 128 new tokens decoded greedily one step at a time, at batch 1 and 8 — the workload of
 * /work/shared/bench/torch_generate.py. Prints one JSON line (the PyTorch script's keys) and, with --out, writes it.
 *
 *   node --conditions=source --import tsx bench/w5-generate.ts [--backend native] [--prompt 256] [--new 128]
 *        [--batches 1,8] [--layers 30] [--out file.json]
 *
 * Decode is also reported against memory bandwidth: every decode step reads all weights once (fp32), so
 * weightBytes / (ms per step) is the read rate the step achieves, to compare with a measured read bandwidth.
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { Command } from 'commander';
import { describeBackend, Llama, resolveBackend, type BackendRequest } from '@rankwise/core';
import { generateTokens } from '@rankwise/core/training';
import { LLAMA_W4_CONFIG } from './workloads.js';

const opts = new Command('w5-generate')
  .option('--backend <name>', 'rankwise backend', 'native')
  .option('--prompt <n>', 'prompt tokens', '256')
  .option('--new <n>', 'new tokens', '128')
  .option('--batches <list>', 'batch sizes', '1,8')
  .option('--layers <n>', 'decoder layers (30 = SmolLM2-135M)', '30')
  .option('--prefill-chunk <n>', 'prompt tokens per row in one prefill pass (default: rows × tokens ≤ 512, as rankwise generate)')
  .option('--bandwidth', 'instead: measure the read bandwidth (GB/s) of a 256 MiB sum on the backend, best of 5')
  .option('--out <file>', 'also write the JSON here')
  .parse()
  .opts<{ backend: string; prompt: string; new: string; batches: string; layers: string; prefillChunk?: string; bandwidth?: boolean; out?: string }>();

const backend = await resolveBackend(opts.backend as BackendRequest);
tf.enableProdMode();
if (opts.bandwidth) {
  // A sum reads every byte once (native: SIMD over the thread pool); the best of 5 is the read bandwidth a decode step can hope for.
  const big = tf.fill([64 * 1024 * 1024], 1, 'float32');
  let best = Infinity;
  for (let i = 0; i < 6; i++) {
    const t = performance.now();
    const s = tf.sum(big);
    await s.data();
    s.dispose();
    if (i > 0) best = Math.min(best, performance.now() - t);
  }
  big.dispose();
  console.log(JSON.stringify({ readBandwidthGBps: Math.round((big.size * 4) / (best / 1000) / 1e8) / 10 }));
  process.exit(0);
}
const prompt = Number(opts.prompt);
const fresh = Number(opts.new);
const model = new Llama({ ...LLAMA_W4_CONFIG, num_hidden_layers: Number(opts.layers), context: prompt + fresh }, 1);
model.eval();
const weightBytes = model.parameters().reduce((n, v) => n + v.size * 4, 0);

function seededIds(n: number, seed: number, vocab: number): Int32Array {
  let s = seed >>> 0;
  return Int32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return Math.floor((s / 4294967296) * vocab);
  });
}

/** One greedy generation through rankwise's generator (`generateTokens`: KV cache, chunked prefill, logits read back, argmax in JavaScript). */
async function generate(batch: number, promptLength: number, newTokens: number) {
  const all = seededIds(batch * promptLength, batch, LLAMA_W4_CONFIG.vocab_size);
  const prompts = Array.from({ length: batch }, (_, b) => Array.from(all.subarray(b * promptLength, (b + 1) * promptLength)));
  const chunk = opts.prefillChunk === undefined ? undefined : Number(opts.prefillChunk);
  const result = await generateTokens(model, prompts, { maxNewTokens: newTokens, ...(chunk ? { prefillChunk: chunk } : {}) });
  const sorted = [...result.stepSeconds].sort((a, b) => a - b);
  const msPerDecodeStep = (sorted[Math.floor(sorted.length / 2)] ?? 0) * 1000;
  return {
    prefillTokensPerSec: Math.round(((batch * promptLength) / result.prefillSeconds) * 10) / 10,
    decodeTokensPerSec: Math.round(((batch * (newTokens - 1)) / result.decodeSeconds) * 10) / 10,
    msPerDecodeStep: Math.round(msPerDecodeStep * 100) / 100,
    prefillMs: Math.round(result.prefillSeconds * 10000) / 10,
    decodeWeightReadGBps: Math.round(weightBytes / (msPerDecodeStep / 1000) / 1e8) / 10,
  };
}

const before = tf.memory().numTensors;
await generate(1, 16, 4); // warm-up, as the PyTorch script
const out: Record<string, unknown> = {
  workload: 'W5',
  backend: describeBackend(backend),
  layers: Number(opts.layers),
  prompt,
  new: fresh,
  weightBytes,
  loadAverage: loadavg(),
};
for (const b of opts.batches.split(',').map(Number)) out[`batch${b}`] = await generate(b, prompt, fresh);
if (tf.memory().numTensors !== before) throw new Error(`W5 leaked ${tf.memory().numTensors - before} tensors`);
out.peakRssMiB = Math.round(process.resourceUsage().maxRSS / 1024);
model.dispose();
if (opts.out) writeFileSync(opts.out, `${JSON.stringify(out, null, 2)}\n`);
console.log(JSON.stringify(out));
