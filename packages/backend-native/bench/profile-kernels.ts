/**
 * Per-kernel time of a training step on a backend: wraps every kernel registered for the backend
 * with a timer. Usage: node --conditions=source --import tsx bench/profile-kernels.ts [cpu|native] [mlp|gpt] [steps]
 * (native uses the fused Adam unless PROFILE_TF_ADAM=1).
 */
import * as tf from '@tensorflow/tfjs';
import { makeGpt, makeMlp, trainStep, gptBenchSpec } from './workloads.js';

interface KernelStat {
  calls: number;
  ms: number;
  elems: number;
}

function instrumentBackend(backendName: string): Map<string, KernelStat> {
  const stats = new Map<string, KernelStat>();
  for (const config of tf.getKernelsForBackend(backendName)) {
    const inner = config.kernelFunc;
    tf.unregisterKernel(config.kernelName, backendName);
    tf.registerKernel({
      ...config,
      kernelFunc: (args) => {
        const t0 = performance.now();
        const out = inner(args);
        const dt = performance.now() - t0;
        const shapes =
          process.env.PROFILE_SHAPES === '1'
            ? ` ${Object.values(args.inputs)
                .map((t) => (t ? `[${t.shape}]` : '-'))
                .join('')} ${JSON.stringify(args.attrs ?? {}).slice(0, 60)}`
            : '';
        const key = `${config.kernelName}${shapes}`;
        const st = stats.get(key) ?? { calls: 0, ms: 0, elems: 0 };
        st.calls += 1;
        st.ms += dt;
        const first = Array.isArray(out) ? out[0] : out;
        st.elems += first ? first.shape.reduce((a, b) => a * b, 1) : 0;
        stats.set(key, st);
        return out;
      },
    });
  }
  return stats;
}

async function main(): Promise<void> {
  const backendName = process.argv[2] ?? 'cpu';
  const which = process.argv[3] ?? 'mlp';
  const steps = Number(process.argv[4] ?? 3);
  let optimizer: tf.Optimizer | undefined;
  if (backendName === 'native') {
    const { provider } = await import('../src/index.js');
    const started = await provider.start({ allowSoftware: false });
    if (!started.ok) throw new Error(started.reason);
    if (started.createAdam && process.env.PROFILE_TF_ADAM !== '1') {
      optimizer = started.createAdam({ learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, weightDecay: 0 });
    }
  } else {
    await tf.setBackend(backendName);
  }
  optimizer ??= tf.train.adam(1e-3);
  const workload = which === 'gpt' ? makeGpt(gptBenchSpec) : makeMlp();
  await trainStep(workload, optimizer);
  const stats = instrumentBackend(tf.getBackend());
  const t0 = performance.now();
  for (let i = 0; i < steps; i += 1) await trainStep(workload, optimizer);
  const total = (performance.now() - t0) / steps;
  const rows = [...stats.entries()].sort((a, b) => b[1].ms - a[1].ms);
  const kernelTotal = rows.reduce((a, [, s]) => a + s.ms, 0) / steps;
  console.log(`${backendName} ${which}: ${total.toFixed(1)} ms/step, kernels ${kernelTotal.toFixed(1)} ms/step`);
  for (const [name, s] of rows) {
    console.log(
      `${name.padEnd(process.env.PROFILE_SHAPES === '1' ? 90 : 22)} ${(s.ms / steps).toFixed(2).padStart(9)} ms ${String(s.calls / steps).padStart(6)} calls ${(s.elems / s.calls).toFixed(0).padStart(9)} avg elems`,
    );
  }
}

await main();
