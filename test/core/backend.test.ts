import * as tf from '@tensorflow/tfjs';
import { describe, expect, test } from 'vitest';
import { BackendUnavailableError, defaultModuleLoader, describeBackend, Mlp, resolveBackend, type BackendProvider, type ModuleLoader } from '@rankwise/core';
import { createOptimizer, sparseSoftmaxCrossEntropy, trainStep } from '@rankwise/core/training';
import { seededLabels, seededTensor } from '../helpers/numeric.js';

const notFound = (specifier: string): Error =>
  Object.assign(new Error(`Cannot find package '${specifier}' imported from /x.js`), { code: 'ERR_MODULE_NOT_FOUND' });

/** A loader where the named packages are absent or broken; the rest load for real. */
function simulated(options: { absent?: string[]; broken?: Record<string, string>; fake?: Record<string, unknown> }): ModuleLoader {
  return async (specifier) => {
    if (options.absent?.includes(specifier)) throw notFound(specifier);
    const broken = options.broken?.[specifier];
    if (broken) throw new Error(broken);
    if (options.fake && specifier in options.fake) return options.fake[specifier];
    return defaultModuleLoader(specifier);
  };
}

const ALL_OPTIONAL = ['@tensorflow/tfjs-node-gpu', '@rankwise/backend-webgpu', '@tensorflow/tfjs-node', '@rankwise/backend-native'];

describe('backend resolution', () => {
  test('auto falls through the order and says why each was skipped', async () => {
    const loader = simulated({
      absent: ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node', '@rankwise/backend-native'],
      broken: { '@rankwise/backend-webgpu': "Cannot find module '/x/dawn.node'" },
    });
    const backend = await resolveBackend('auto', { loader });
    expect(backend.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(backend.skipped).toEqual([
      { name: 'tensorflow-gpu', reason: 'not installed (@tensorflow/tfjs-node-gpu)' },
      { name: 'webgpu', reason: "native binding missing or broken: Cannot find module '/x/dawn.node'" },
      { name: 'tensorflow', reason: 'not installed (@tensorflow/tfjs-node)' },
      { name: 'native', reason: 'not installed (@rankwise/backend-native)' },
    ]);
    expect(describeBackend(backend)).toContain('backend wasm (fastest available (auto))');
  });

  test('without wasm, auto ends on cpu', async () => {
    const backend = await resolveBackend('auto', { loader: simulated({ absent: [...ALL_OPTIONAL, '@tensorflow/tfjs-backend-wasm'] }) });
    expect(backend.name).toBe('cpu');
    expect(backend.skipped.map((s) => s.name)).toEqual(['tensorflow-gpu', 'webgpu', 'tensorflow', 'native', 'wasm']);
    expect(backend.skipped[4].reason).toBe('not installed (@tensorflow/tfjs-backend-wasm)');
  });

  test('a provider package that declines (e.g. software GPU in auto) is skipped with its own reason', async () => {
    const calls: boolean[] = [];
    const webgpu: BackendProvider = {
      name: 'webgpu',
      kind: 'gpu',
      install: 'x',
      async start({ allowSoftware }) {
        calls.push(allowSoftware);
        return { ok: false, reason: 'software adapter only (llvmpipe)' };
      },
    };
    const loader = simulated({
      absent: ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node', '@rankwise/backend-native'],
      fake: { '@rankwise/backend-webgpu': { provider: webgpu } },
    });
    const backend = await resolveBackend('auto', { loader });
    expect(backend.skipped[1]).toEqual({ name: 'webgpu', reason: 'software adapter only (llvmpipe)' });
    expect(calls).toEqual([false]); // auto never accepts a software adapter
    await expect(resolveBackend('webgpu', { loader })).rejects.toThrow('backend "webgpu" is not available: software adapter only (llvmpipe)');
    expect(calls).toEqual([false, true]); // asked for by name: software allowed
  });

  test('a long reason stays out of the backend line: one short reason, the detail only with --verbose (RANKWISE_VERBOSE=1)', async () => {
    const detail = Array.from({ length: 9 }, (_, i) => `/usr/lib/blas-${i}/libopenblas.so.0: cannot open shared object file: No such file or directory`).join(
      '; ',
    );
    const native: BackendProvider = {
      name: 'native',
      kind: 'cpu',
      install: 'x',
      start: async () => ({ ok: false, reason: 'no OpenBLAS found (9 library names tried)', detail }),
    };
    const loader = simulated({
      absent: ['@tensorflow/tfjs-node-gpu', '@rankwise/backend-webgpu', '@tensorflow/tfjs-node'],
      fake: { '@rankwise/backend-native': { provider: native } },
    });
    const backend = await resolveBackend('auto', { loader });
    expect(backend.skipped[3]).toEqual({ name: 'native', reason: 'no OpenBLAS found (9 library names tried)', detail });
    const line = describeBackend(backend, false);
    expect(line).toContain('native: no OpenBLAS found (9 library names tried)');
    expect(line).not.toContain('/usr/lib/blas-0');
    expect(line.length).toBeLessThan(400);
    expect(describeBackend(backend, true)).toContain(`native: no OpenBLAS found (9 library names tried) [${detail}]`);
    // asked for by name, the error carries everything
    await expect(resolveBackend('native', { loader })).rejects.toThrow(`no OpenBLAS found (9 library names tried) [${detail}]`);
  });

  test('a named backend that cannot start is an error saying how to install it', async () => {
    const loader = simulated({ absent: ALL_OPTIONAL });
    const error = await resolveBackend('tensorflow-gpu', { loader }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect((error as Error).message).toBe(
      'backend "tensorflow-gpu" is not available: not installed (@tensorflow/tfjs-node-gpu). To use it: ' +
        'npm install @tensorflow/tfjs-node-gpu@4.22.0 (pnpm add -w in the rankwise repository; Linux x64, NVIDIA driver, CUDA 11.2 + cuDNN 8.1; its install downloads libtensorflow)',
    );
    await expect(resolveBackend('native', { loader })).rejects.toThrow('To use it: apt-get install libopenblas0-pthread');
    await expect(resolveBackend('tpu' as 'cpu')).rejects.toThrow('unknown backend "tpu"; allowed: auto, tensorflow-gpu, webgpu, tensorflow, native, wasm, cpu');
  });

  test('wasm and cpu give the same loss after 10 seeded Adam steps (relative 1e-4)', async () => {
    // Both run float32 with different summation orders (SIMD vs scalar), so bitwise equality is not expected;
    // 1e-4 relative over 10 steps leaves room for rounding drift and none for a wrong kernel.
    const run = async (name: 'wasm' | 'cpu'): Promise<number[]> => {
      await resolveBackend(name);
      const model = new Mlp({ sizes: [64, 32, 10] }, 3);
      const x = seededTensor([32, 64], 4);
      const y = seededLabels(32, 10, 5);
      const { optimizer } = createOptimizer({ name: 'adam', lr: 1e-2 });
      const losses: number[] = [];
      for (let i = 0; i < 10; i++) {
        const out = trainStep({ loss: () => sparseSoftmaxCrossEntropy(model.forward(x), y), variables: model.trainableParameters(), optimizer });
        losses.push((await out.loss.data())[0]);
        tf.dispose(out);
      }
      optimizer.dispose();
      tf.dispose([x, y]);
      model.dispose();
      return losses;
    };
    const wasm = await run('wasm');
    const cpu = await run('cpu');
    expect(wasm[9]).toBeLessThan(wasm[0]);
    wasm.forEach((l, i) => expect(Math.abs(l - cpu[i]) / cpu[i]).toBeLessThan(1e-4));
  });

  test('wasm computes embedding gradients (UnsortedSegmentSum registered) like cpu', async () => {
    const grad = async (name: 'wasm' | 'cpu'): Promise<Float32Array> => {
      await resolveBackend(name);
      const table = tf.variable(seededTensor([6, 3], 1), true, `emb-${name}-${Date.now()}`);
      const ids = tf.tensor1d([0, 2, 2, 5, -1, 9], 'int32'); // -1 and 9 are outside [0, 6)
      const g = tf.variableGrads(
        () =>
          tf
            .gather(table, tf.tensor1d([0, 2, 2, 5], 'int32'))
            .square()
            .sum() as tf.Scalar,
        [table],
      );
      const direct = tf.unsortedSegmentSum(tf.ones([6, 3]), ids, 6);
      const dv = await direct.data();
      expect([...dv.slice(0, 18)]).toEqual([1, 1, 1, 0, 0, 0, 2, 2, 2, 0, 0, 0, 0, 0, 0, 1, 1, 1]);
      const out = Float32Array.from(await g.grads[table.name].data());
      tf.dispose([g.value, g.grads[table.name], ids, direct, table]);
      return out;
    };
    const wasm = await grad('wasm');
    const cpu = await grad('cpu');
    expect([...wasm]).toEqual([...cpu]);
  });
});
