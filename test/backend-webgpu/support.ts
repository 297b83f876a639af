/**
 * Shared helpers for the webgpu tests: one start per test file (vitest runs files in separate
 * processes), seeded inputs, and running the same computation on 'cpu' and 'webgpu' in turn.
 */
import * as tf from '@tensorflow/tfjs';
import { provider } from '@rankwise/backend-webgpu';
import { normRelativeError } from '../helpers/numeric.js';

/** Started with software allowed: CI has only Mesa's llvmpipe. */
export const started = await provider.start({ allowSoftware: true });
export const noAdapter = !started.ok;
export const suiteName = started.ok ? `webgpu on ${started.info.description} (${started.info.backend})` : `webgpu SKIPPED, no adapter: ${started.reason}`;
if (!started.ok) {
  // CI installs the software driver and sets this, so a broken driver setup fails instead of skipping.
  if (process.env.RANKWISE_REQUIRE_WEBGPU === '1') throw new Error(`RANKWISE_REQUIRE_WEBGPU=1 but ${started.reason}`);
  console.warn(`[backend-webgpu tests] skipped: ${started.reason}`);
}

/** mulberry32: deterministic inputs, identical for both backends. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Approximately standard-normal values (Box–Muller) as a Float32Array. */
export function normalArray(size: number, random: () => number, scale = 1): Float32Array {
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    const u = Math.max(random(), 1e-12);
    out[i] = scale * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
  }
  return out;
}

export type BackendName = 'cpu' | 'webgpu';

/**
 * Switches the global backend, runs `build` inside tidy and reads every returned tensor with
 * `await data()` (dataSync throws on webgpu in Node). Returns plain arrays; nothing is left allocated.
 */
export async function runOn(backend: BackendName, build: () => tf.Tensor[]): Promise<Float32Array[]> {
  if (!(await tf.setBackend(backend))) throw new Error(`setBackend(${backend}) failed`);
  const outputs = tf.tidy(build);
  try {
    return await Promise.all(outputs.map(async (t) => Float32Array.from(await t.data())));
  } finally {
    tf.dispose(outputs);
  }
}

/** Runs `build` on cpu then webgpu and returns the worst normwise error over all outputs. */
export async function compareBackends(build: () => tf.Tensor[]): Promise<{ error: number; cpu: Float32Array[]; gpu: Float32Array[] }> {
  const cpu = await runOn('cpu', build);
  const gpu = await runOn('webgpu', build);
  const error = Math.max(...cpu.map((expected, i) => normRelativeError(gpu[i], expected)));
  return { error, cpu, gpu };
}
