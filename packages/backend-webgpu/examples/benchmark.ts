/**
 * Times the webgpu backend against tfjs' cpu backend:
 *   node --conditions=source --import tsx packages/backend-webgpu/examples/benchmark.ts [webgpu|cpu] [steps]
 * Prints one JSON line: first (cold: shader compilation) and steady-state (median, best) timings of a 512² matmul
 * and of an MLP 784-512-512-10, batch 128, Adam training step. Every timing includes `await data()`.
 * Run it twice with the same MESA_SHADER_CACHE_DIR to see what Mesa's shader cache saves.
 */
import * as tf from '@tensorflow/tfjs';
import { provider, shutdownWebGpu } from '@rankwise/backend-webgpu';

const backend = process.argv[2] === 'cpu' ? 'cpu' : 'webgpu';
const steps = Number(process.argv[3] ?? 10);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function timed(run: () => Promise<unknown>): Promise<number> {
  const begin = performance.now();
  await run();
  return performance.now() - begin;
}

interface Timings {
  first: number;
  median: number;
  best: number;
}

async function matmulTimings(): Promise<Timings> {
  const a = tf.randomNormal([512, 512]);
  const b = tf.randomNormal([512, 512]);
  const once = async () => {
    const c = tf.matMul(a, b);
    await c.data();
    c.dispose();
  };
  const first = await timed(once);
  const runs: number[] = [];
  for (let i = 0; i < steps; i++) runs.push(await timed(once));
  tf.dispose([a, b]);
  return { first, median: median(runs), best: Math.min(...runs) };
}

async function mlpTimings(): Promise<Timings & { loss: number }> {
  const sizes = [784, 512, 512, 10];
  const params: tf.Variable[] = [];
  for (let i = 0; i < 3; i++) {
    params.push(tf.variable(tf.randomNormal([sizes[i], sizes[i + 1]], 0, Math.sqrt(2 / sizes[i]), 'float32', i + 1)));
    params.push(tf.variable(tf.zeros([sizes[i + 1]])));
  }
  const x = tf.randomNormal([128, 784], 0, 1, 'float32', 11);
  const y = tf.oneHot(tf.randomUniform([128], 0, 10, 'int32', 12) as tf.Tensor1D, 10);
  const optimizer = tf.train.adam(1e-3);
  let loss = 0;
  const step = async () => {
    const { value, grads } = tf.variableGrads(() => {
      let h: tf.Tensor = x;
      for (let i = 0; i < 3; i++) {
        h = tf.add(tf.matMul(h, params[2 * i]), params[2 * i + 1]);
        if (i < 2) h = tf.relu(h);
      }
      return tf.losses.softmaxCrossEntropy(y, h) as tf.Scalar;
    }, params);
    optimizer.applyGradients(Object.entries(grads).map(([name, tensor]) => ({ name, tensor })));
    loss = (await value.data())[0];
    tf.dispose([value, grads]);
  };
  const first = await timed(step);
  const runs: number[] = [];
  for (let i = 0; i < steps; i++) runs.push(await timed(step));
  optimizer.dispose();
  tf.dispose([...params, x, y]);
  return { first, median: median(runs), best: Math.min(...runs), loss };
}

const startBegin = performance.now();
if (backend === 'webgpu') {
  const started = await provider.start({ allowSoftware: true });
  if (!started.ok) throw new Error(started.reason);
} else {
  await tf.setBackend('cpu');
}
const startMs = performance.now() - startBegin;
const matmul = await matmulTimings();
const mlp = await mlpTimings();
const round = (n: number) => Math.round(n * 10) / 10;
console.log(
  JSON.stringify({
    backend,
    adapter: backend === 'webgpu' ? tf.backend().constructor.name : 'tfjs cpu',
    shaderCache: process.env.MESA_SHADER_CACHE_DIR ?? 'default',
    startMs: round(startMs),
    matmul512: { firstMs: round(matmul.first), medianMs: round(matmul.median), bestMs: round(matmul.best) },
    mlpAdamStep: { firstMs: round(mlp.first), medianMs: round(mlp.median), bestMs: round(mlp.best), loss: Number(mlp.loss.toPrecision(3)) },
  }),
);
await shutdownWebGpu();
