/**
 * The provider contract and every way the backend can be unavailable: addon not built (with and
 * without build/unavailable.json), no C compiler at build time, BLAS not loadable. start() never throws.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';

import { chooseCoretype, coretypeForFlags, coretypeProblem, parseCpuinfo, provider, startNativeBackend } from '@rankwise/backend-native';
import { loadAddon } from '../../packages/backend-native/src/addon.js';
import { native, skipReason } from './helpers.js';

const packageDir = resolve(import.meta.dirname, '../../packages/backend-native');

function readCpuinfo(): string {
  try {
    return readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return '';
  }
}
const cpuinfo = readCpuinfo();
/** The SkylakeX refusal can only be observed on an x64 CPU without AVX-512 whose flags are readable. */
const cannotCheckSkylakeX = process.arch !== 'x64' || !cpuinfo || parseCpuinfo(cpuinfo).flags.has('avx512f');

describe('native provider: contract and fallbacks', () => {
  it('shares one @tensorflow/tfjs-core with @tensorflow/tfjs (pnpm dedupes the pinned 4.22.0)', () => {
    const fromPackage = createRequire(join(packageDir, 'package.json')).resolve('@tensorflow/tfjs-core');
    const tfjsDir = realpathSync(join(packageDir, '../../node_modules/@tensorflow/tfjs'));
    const fromTfjs = createRequire(join(tfjsDir, 'package.json')).resolve('@tensorflow/tfjs-core');
    expect(realpathSync(fromPackage)).toBe(realpathSync(fromTfjs));
    expect(fromPackage).toMatch(/tfjs-core@4\.22\.0/);
  });

  it('has the contract fields', () => {
    expect(provider.name).toBe('native');
    expect(provider.kind).toBe('cpu');
    expect(provider.install).toMatch(/libopenblas0-pthread/);
    expect(typeof provider.start).toBe('function');
  });

  it('reports a missing addon without throwing', async () => {
    const result = await startNativeBackend({ addonPath: '/nonexistent/build/rankwise_native.node' });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(/native addon not built: .*rankwise_native\.node is missing/);
  });

  it('reports the reason the build step left in unavailable.json', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rw-native-'));
    writeFileSync(join(dir, 'unavailable.json'), JSON.stringify({ reason: 'no working C compiler: cc not found', stage: 'compiler' }));
    const result = await startNativeBackend({ addonPath: join(dir, 'rankwise_native.node') });
    expect(result).toEqual({ ok: false, reason: 'native addon not built: no working C compiler: cc not found (compiler)' });
  });

  it('the install-time build exits 0 without a working C compiler and records why', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rw-native-build-'));
    const build = spawnSync(process.execPath, [join(packageDir, 'scripts/build-addon.mjs'), '--out', dir], {
      env: { ...process.env, CC: '/bin/false' },
      encoding: 'utf8',
    });
    expect(build.status).toBe(0);
    const result = await startNativeBackend({ addonPath: join(dir, 'rankwise_native.node') });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(/no working C compiler: '\/bin\/false --version' exited with 1 \(compiler\)/);
  });

  it('chooses OPENBLAS_CORETYPE from CPU flags, and the environment wins', () => {
    const amd = parseCpuinfo('processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: sse2 avx avx2 fma\n');
    expect(amd.vendor).toBe('AuthenticAMD');
    expect(coretypeForFlags(amd.flags, amd.vendor)).toEqual({ coretype: 'Zen', detail: 'AMD, avx2+fma' });
    const flags = (line: string) => parseCpuinfo(`vendor_id\t: GenuineIntel\nflags\t\t: ${line}\n`).flags;
    expect(coretypeForFlags(flags('sse2 avx avx2 fma'), 'GenuineIntel')).toEqual({ coretype: 'Haswell', detail: 'avx2+fma' });
    expect(coretypeForFlags(flags('avx2 fma avx512f avx512bw avx512vl')).coretype).toBe('SkylakeX');
    expect(coretypeForFlags(flags('avx2 fma avx512f avx512bw avx512vl avx512_bf16')).coretype).toBe('Cooperlake');
    expect(coretypeForFlags(flags('sse2 avx')).coretype).toBe('Sandybridge');
    expect(coretypeForFlags(flags('sse2 sse4_2')).coretype).toBe('');
    expect(chooseCoretype({ OPENBLAS_CORETYPE: 'Zen' })).toMatchObject({ coretype: 'Zen', source: 'environment' });
    expect(chooseCoretype({}, '/nonexistent/cpuinfo')).toMatchObject({ coretype: '', source: 'none' });
    expect(coretypeProblem('SkylakeX', flags('sse2 avx avx2 fma'))).toBe('OPENBLAS_CORETYPE=SkylakeX needs avx512f, avx512bw, avx512vl, which this CPU lacks');
    expect(coretypeProblem('Haswell', flags('avx2 fma'))).toBeUndefined();
    expect(coretypeProblem('SomethingNew', flags(''))).toBeUndefined();
  });

  it.skipIf(cannotCheckSkylakeX)('refuses an OPENBLAS_CORETYPE the CPU cannot execute instead of crashing in BLAS', async () => {
    const result = await startNativeBackend({ env: { ...process.env, OPENBLAS_CORETYPE: 'SkylakeX' } });
    expect(result).toEqual({ ok: false, reason: expect.stringMatching(/OPENBLAS_CORETYPE=SkylakeX needs avx512f/) });
  });
});

describe.skipIf(skipReason !== '')(`native provider with the addon built ${skipReason}`, () => {
  it('start() registers and selects the backend, visible from @tensorflow/tfjs', async () => {
    const result = await provider.start({ allowSoftware: false });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result).toMatchObject({ tfBackend: 'native', kind: 'cpu' });
    expect(tf.getBackend()).toBe('native');
    expect(typeof result.createAdam).toBe('function');
    expect(result.info).toMatchObject({ threads: expect.any(Number), coretypeSource: expect.any(String), blas: expect.stringMatching(/blas/) });
    const product = tf.matMul(tf.ones([2, 3]), tf.ones([3, 4]));
    expect(await product.array()).toEqual([
      [3, 3, 3, 3],
      [3, 3, 3, 3],
    ]);
    product.dispose();
    await tf.setBackend('cpu');
    expect(native.ok).toBe(true);
  });

  it('the addon checks every length: bad sizes throw instead of touching memory', () => {
    const loaded = loadAddon();
    if (!loaded.ok) throw new Error(loaded.reason);
    const { addon } = loaded;
    const f = new Float32Array(10);
    expect(() => addon.sgemm(false, false, 4, 4, 4, f, f, f, 1, 1, 1)).toThrow(/array too short/);
    expect(() => addon.sgemm(false, false, 2 ** 30, 2 ** 30, 2 ** 30, f, f, f, 2 ** 40, 1, 1)).toThrow(/array too short/);
    expect(() => addon.binary(addon.ops.binary.ADD, f, f, f, Float64Array.from([1, 11, 1, 1]))).toThrow(/output too short/);
    expect(() => addon.binary(addon.ops.binary.ADD, f, f, f, Float64Array.from([2, 2, 5, 1e15, 1, 0, 0]))).toThrow(/input too short/);
    expect(() => addon.reduce(addon.ops.reduce.SUM, f, f, 2, 6, 1)).toThrow(/array too short/);
    expect(() => addon.transpose(f, f, Float64Array.from([3, 5]), Float64Array.from([1, 3]))).toThrow(/too short/);
    expect(() => addon.unary(addon.ops.unary.EXP, new Int32Array(3) as unknown as Float32Array, f, 0)).toThrow(/Float32Array/);
    expect(addon.gather(f, Int32Array.from([0, 12]), f, 1, 10, 1)).toBe(1);
  });

  it('reports an unloadable BLAS (RANKWISE_BLAS=/nonexistent) as unavailable, in a fresh process', () => {
    const script = [
      "import { provider } from '@rankwise/backend-native';",
      "import * as tf from '@tensorflow/tfjs';",
      'const result = await provider.start({ allowSoftware: false });',
      "console.log('RESULT ' + JSON.stringify({ result, backend: tf.getBackend() }));",
    ].join('\n');
    const child = spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', '--input-type=module', '-e', script], {
      env: { ...process.env, RANKWISE_BLAS: '/nonexistent/libopenblas.so.0' },
      cwd: resolve(packageDir, '../..'),
      encoding: 'utf8',
    });
    const line = child.stdout.split('\n').find((l) => l.startsWith('RESULT '));
    expect(line, child.stderr).toBeDefined();
    const { result, backend } = JSON.parse(line!.slice(7)) as { result: { ok: boolean; reason?: string; detail?: string }; backend: string };
    expect(result.ok).toBe(false);
    // one short line for the backend log; every path tried and its dlerror only in the detail (--verbose)
    expect(result.reason).toBe('no OpenBLAS found (1 library name tried; apt-get install libopenblas0-pthread)');
    expect(result.detail).toMatch(/^\/nonexistent\/libopenblas\.so\.0: .*No such file.*; install: apt-get install/);
    expect(backend).not.toBe('native');
  });
});
