/**
 * Micro benchmark of @rankwise/backend-native.
 *   node --conditions=source --import tsx packages/backend-native/scripts/microbench.ts [--quick] [--transformer] [--cpu-transformer]
 *   (or: pnpm --filter @rankwise/backend-native run microbench -- --transformer)
 * 1. cblas_sgemm GFLOP/s for a few shapes, for each OPENBLAS_CORETYPE candidate (one child process
 *    each: OpenBLAS reads the variable when it is loaded).
 * 2. ms per full training step (forward, gradients, Adam) of the MLP 784-512-512-10, batch 128, on
 *    native (fused Adam and tf.train.adam), cpu and wasm; optionally the GPT-style transformer.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { parseCpuinfo } from '../src/coretype.js';

const self = fileURLToPath(import.meta.url);
const args = process.argv.slice(2);
const quick = args.includes('--quick');

interface ChildResult {
  [key: string]: unknown;
}

function child(mode: string, env: Record<string, string> = {}, extra: string[] = []): ChildResult {
  const run = spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', self, '--child', mode, ...extra], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 20 * 60_000,
  });
  const line = (run.stdout ?? '').split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) {
    const why = run.signal ? `killed by ${run.signal}` : `exit ${run.status}`;
    return { error: `${why}: ${(run.stderr ?? '').trim().split('\n').slice(-2).join(' | ')}` };
  }
  return JSON.parse(line.slice(7)) as ChildResult;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

const gemmShapes: Array<[number, number, number]> = [
  [128, 512, 784],
  [128, 512, 512],
  [4096, 384, 128],
  [4096, 128, 512],
  [256, 256, 256],
  [512, 512, 512],
  [1024, 1024, 1024],
];

async function childSgemm(): Promise<ChildResult> {
  const { startNativeBackend } = await import('../src/index.js');
  const { loadAddon } = await import('../src/addon.js');
  const started = await startNativeBackend();
  if (!started.ok) return { error: started.reason };
  const loaded = loadAddon();
  if (!loaded.ok) return { error: loaded.reason };
  const { addon } = loaded;
  const gflops: Record<string, number> = {};
  for (const [m, n, k] of gemmShapes) {
    const a = Float32Array.from({ length: m * k }, () => Math.random());
    const b = Float32Array.from({ length: k * n }, () => Math.random());
    const c = new Float32Array(m * n);
    const flop = 2 * m * n * k;
    const reps = Math.max(3, Math.ceil((quick ? 0.3e9 : 1e9) / flop));
    const times: number[] = [];
    for (let round = 0; round < 5; round += 1) {
      const t0 = performance.now();
      for (let r = 0; r < reps; r += 1) addon.sgemm(false, false, m, n, k, a, b, c, 1, 1, 1);
      times.push((performance.now() - t0) / reps);
    }
    gflops[`${m}x${n}x${k}`] = Number((flop / Math.min(...times) / 1e6).toFixed(1));
  }
  return {
    coretype: started.info.coretype,
    source: started.info.coretypeSource,
    threads: started.info.threads,
    gemmThreading: started.info.gemmThreading,
    gflops,
  };
}

async function childStep(backendName: string, workloadName: string, optimizerKind: string): Promise<ChildResult> {
  const tf = await import('@tensorflow/tfjs');
  const { makeMlp, makeGpt, trainStep } = await import('../bench/workloads.js');
  let optimizer: import('@tensorflow/tfjs').Optimizer;
  const spec = { learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, weightDecay: 0 };
  let info: Record<string, unknown> = {};
  if (backendName === 'native') {
    const { startNativeBackend } = await import('../src/index.js');
    const started = await startNativeBackend();
    if (!started.ok) return { error: started.reason };
    info = started.info;
    optimizer =
      optimizerKind === 'fused' && started.createAdam ? started.createAdam(spec) : tf.train.adam(spec.learningRate, spec.beta1, spec.beta2, spec.epsilon);
  } else {
    if (backendName === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
    if (!(await tf.setBackend(backendName))) return { error: `setBackend(${backendName}) failed` };
    optimizer = tf.train.adam(spec.learningRate, spec.beta1, spec.beta2, spec.epsilon);
  }
  const workload = workloadName === 'gpt' ? makeGpt() : makeMlp();
  // cpu needs ~1.5 s per MLP step and ~2 min per transformer step: fewer steps there.
  const steps = { native: { mlp: quick ? 20 : 50, gpt: quick ? 3 : 6 }, wasm: { mlp: 10, gpt: 2 }, cpu: { mlp: 3, gpt: 1 } }[
    backendName as 'native' | 'wasm' | 'cpu'
  ][workloadName === 'gpt' ? 'gpt' : 'mlp'];
  const warmup = backendName === 'native' ? 3 : 1;
  for (let i = 0; i < warmup; i += 1) await trainStep(workload, optimizer);
  const before = tf.memory().numTensors;
  const times: number[] = [];
  let loss = 0;
  for (let i = 0; i < steps; i += 1) {
    const t0 = performance.now();
    loss = await trainStep(workload, optimizer);
    times.push(performance.now() - t0);
  }
  const leaked = tf.memory().numTensors - before;
  return {
    backend: tf.getBackend(),
    optimizer: optimizerKind,
    medianMs: Number(median(times).toFixed(2)),
    minMs: Number(Math.min(...times).toFixed(2)),
    steps,
    loss,
    leaked,
    threads: info.threads ?? '',
  };
}

async function main(): Promise<void> {
  const childIndex = args.indexOf('--child');
  if (childIndex >= 0) {
    const mode = args[childIndex + 1];
    const result = mode === 'sgemm' ? await childSgemm() : await childStep(mode, args[childIndex + 2], args[childIndex + 3]);
    console.log(`RESULT ${JSON.stringify(result)}`);
    return;
  }
  console.log('## sgemm GFLOP/s (row-major C = A B, m x n x k), best of 5 rounds');
  const candidates: Array<[string, Record<string, string>]> = [
    ['chosen', {}],
    ['Haswell', { OPENBLAS_CORETYPE: 'Haswell' }],
    ['Zen', { OPENBLAS_CORETYPE: 'Zen' }],
    ['Sandybridge', { OPENBLAS_CORETYPE: 'Sandybridge' }],
    ['Prescott', { OPENBLAS_CORETYPE: 'Prescott' }],
  ];
  const cpuinfo = await import('node:fs').then((fs) => fs.readFileSync('/proc/cpuinfo', 'utf8')).catch(() => '');
  if (parseCpuinfo(cpuinfo).flags.has('avx512f')) {
    candidates.push(['SkylakeX', { OPENBLAS_CORETYPE: 'SkylakeX' }], ['Cooperlake', { OPENBLAS_CORETYPE: 'Cooperlake' }]);
  }
  const threadSettings: Array<[string, Record<string, string>]> = [
    ['pool x2', {}],
    ['1 thread', { RANKWISE_THREADS: '1' }],
  ];
  for (const [label, env] of candidates) {
    for (const [threadLabel, threadEnv] of label === 'chosen' ? threadSettings : threadSettings.slice(0, 1)) {
      const r = child('sgemm', { ...env, ...threadEnv });
      console.log(
        `${label.padEnd(18)} ${threadLabel.padEnd(9)} ${r.error ? `error: ${r.error}` : `${String(r.coretype).padEnd(12)} ${JSON.stringify(r.gflops)}`}`,
      );
    }
  }
  const blasThreads = child('sgemm', { RANKWISE_GEMM_THREADS: 'blas' });
  console.log(
    `${'chosen'.padEnd(18)} ${'OpenBLAS'.padEnd(9)} ${blasThreads.error ? `error: ${blasThreads.error}` : `${String(blasThreads.coretype).padEnd(12)} ${JSON.stringify(blasThreads.gflops)}`}`,
  );

  console.log('\n## MLP 784-512-512-10, batch 128, full step (loss + grads + Adam), ms');
  const runs: Array<[string, string, string, Record<string, string>]> = [
    ['native (fused Adam)', 'native', 'fused', {}],
    ['native, OpenBLAS threads', 'native', 'fused', { RANKWISE_GEMM_THREADS: 'blas' }],
    ['native, 1 thread', 'native', 'fused', { RANKWISE_THREADS: '1' }],
    ['native (tf.train.adam)', 'native', 'tf', {}],
    ['wasm (tf.train.adam)', 'wasm', 'tf', {}],
    ['cpu (tf.train.adam)', 'cpu', 'tf', {}],
  ];
  for (const [label, backend, opt, env] of runs) {
    const r = child(backend, env, ['mlp', opt]);
    console.log(
      `${label.padEnd(28)} ${r.error ? `error: ${r.error}` : `median ${r.medianMs} ms, min ${r.minMs} ms over ${r.steps} steps, leaked tensors ${r.leaked}`}`,
    );
  }

  if (args.includes('--transformer') || args.includes('--cpu-transformer')) {
    console.log('\n## GPT-style transformer (vocab 96, d 128, 4 layers, 4 heads, context 128, batch 32), full step, ms');
    const gptRuns: Array<[string, string, Record<string, string>]> = [
      ['native', 'fused', {}],
      ['native', 'fused', { RANKWISE_THREADS: '1' }],
    ];
    console.log('(wasm cannot run it: tfjs-backend-wasm 4.22.0 has no UnsortedSegmentSum kernel, the gradient of gather)');
    if (args.includes('--cpu-transformer')) gptRuns.push(['cpu', 'tf', {}]);
    for (const [backend, opt, env] of gptRuns) {
      const r = child(backend, env, ['gpt', opt]);
      const label = `${backend}${env.RANKWISE_THREADS ? ', 1 thread' : ''} (${opt === 'fused' ? 'fused Adam' : 'tf.train.adam'})`;
      console.log(
        `${label.padEnd(28)} ${r.error ? `error: ${r.error}` : `median ${r.medianMs} ms, min ${r.minMs} ms over ${r.steps} steps, leaked tensors ${r.leaked}`}`,
      );
    }
  }
}

await main();
