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
import { LLAMA_W4_CONFIG } from './workloads.js';

const opts = new Command('w5-generate')
  .option('--backend <name>', 'rankwise backend', 'native')
  .option('--prompt <n>', 'prompt tokens', '256')
  .option('--new <n>', 'new tokens', '128')
  .option('--batches <list>', 'batch sizes', '1,8')
  .option('--layers <n>', 'decoder layers (30 = SmolLM2-135M)', '30')
  .option('--out <file>', 'also write the JSON here')
  .parse()
  .opts<{ backend: string; prompt: string; new: string; batches: string; layers: string; out?: string }>();

const backend = await resolveBackend(opts.backend as BackendRequest);
tf.enableProdMode();
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

/** Greedy argmax of each row of logits [B, V] on the device (only B ids come back). */
async function nextTokens(logits: tf.Tensor): Promise<Int32Array> {
  const ids = tf.tidy(() => tf.argMax(logits.reshape([logits.shape[0] as number, -1]), -1).cast('int32'));
  const values = (await ids.data()) as Int32Array;
  ids.dispose();
  return values;
}

async function generate(batch: number, promptLength: number, newTokens: number) {
  const cache = model.createCache(batch);
  const ids = tf.tensor2d(seededIds(batch * promptLength, batch, LLAMA_W4_CONFIG.vocab_size), [batch, promptLength], 'int32');
  const t0 = performance.now();
  const first = tf.tidy(() => model.forwardCached(ids, cache, { lastOnly: true }));
  let tokens = await nextTokens(first);
  const prefillMs = performance.now() - t0;
  first.dispose();
  ids.dispose();
  const steps: number[] = [];
  for (let i = 0; i < newTokens - 1; i++) {
    const t = performance.now();
    const logits = tf.tidy(() => model.forwardCached(tf.tensor2d(tokens, [batch, 1], 'int32'), cache));
    tokens = await nextTokens(logits);
    logits.dispose();
    steps.push(performance.now() - t);
  }
  cache.dispose();
  const decodeMs = steps.reduce((a, b) => a + b, 0);
  const sorted = [...steps].sort((a, b) => a - b);
  const msPerDecodeStep = sorted[Math.floor(sorted.length / 2)] ?? 0;
  return {
    prefillTokensPerSec: Math.round((batch * promptLength) / (prefillMs / 1000) * 10) / 10,
    decodeTokensPerSec: Math.round((batch * (newTokens - 1)) / (decodeMs / 1000) * 10) / 10,
    msPerDecodeStep: Math.round(msPerDecodeStep * 100) / 100,
    prefillMs: Math.round(prefillMs * 10) / 10,
    decodeWeightReadGBps: Math.round((weightBytes / (msPerDecodeStep / 1000)) / 1e8) / 10,
  };
}

const before = tf.memory().numTensors;
await generate(1, 16, 4); // warm-up, as the PyTorch script
const out: Record<string, unknown> = {
  workload: 'W5', backend: describeBackend(backend), layers: Number(opts.layers), prompt, new: fresh, weightBytes, loadAverage: loadavg(),
};
for (const b of opts.batches.split(',').map(Number)) out[`batch${b}`] = await generate(b, prompt, fresh);
if (tf.memory().numTensors !== before) throw new Error(`W5 leaked ${tf.memory().numTensors - before} tensors`);
out.peakRssMiB = Math.round(process.resourceUsage().maxRSS / 1024);
model.dispose();
if (opts.out) writeFileSync(opts.out, `${JSON.stringify(out, null, 2)}\n`);
console.log(JSON.stringify(out));
