#!/usr/bin/env node
/**
 * Builds build/rankwise_native.node with the system C compiler (no node-gyp, no BLAS headers:
 * BLAS is dlopen'ed at run time). Never fails the install: on any problem it writes
 * build/unavailable.json ({ reason, stage, ... }) and exits 0, and the backend reports that reason.
 *
 * Env: CC (compiler, default cc), RANKWISE_NODE_INCLUDE (dir with node_api.h),
 *      RANKWISE_NATIVE_SKIP_BUILD=1 (record "skipped" instead of building).
 * Args: --out DIR (build somewhere else than build/, e.g. to test a failing build).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const nativeDir = join(root, 'native');
const outIndex = process.argv.indexOf('--out');
const buildDir = outIndex > 0 && process.argv[outIndex + 1] ? resolve(process.argv[outIndex + 1]) : join(root, 'build');
const objDir = join(buildDir, 'obj');
const addonPath = join(buildDir, 'rankwise_native.node');
const unavailablePath = join(buildDir, 'unavailable.json');
const infoPath = join(buildDir, 'build-info.json');

const commonSources = ['rw_addon.c', 'rw_addon_ops.c', 'rw_napi.c', 'rw_blas.c', 'rw_pool.c', 'rw_ops.c', 'rw_gemm.c', 'rw_layout.c', 'rw_quant.c'];
const kernelSources = ['rw_k_elementwise.c', 'rw_k_reduce.c'];

function log(message) {
  console.log(`[@rankwise/backend-native] ${message}`);
}

function giveUp(stage, reason, extra = {}) {
  rmSync(addonPath, { force: true });
  writeFileSync(
    unavailablePath,
    `${JSON.stringify({ reason, stage, node: process.version, platform: `${process.platform}-${process.arch}`, ...extra }, null, 2)}\n`,
  );
  log(`native addon not built (${stage}): ${reason}`);
  log('the backend will report itself unavailable; everything else keeps working.');
  process.exit(0);
}

function findNodeHeaders() {
  const candidates = [
    process.env.RANKWISE_NODE_INCLUDE,
    join(dirname(dirname(process.execPath)), 'include', 'node'),
    '/usr/include/node',
    '/usr/local/include/node',
  ].filter(Boolean);
  return { dir: candidates.find((dir) => existsSync(join(dir, 'node_api.h'))), candidates };
}

function run(cmd, args) {
  return new Promise((resolvePromise) => {
    let output = '';
    let child;
    try {
      child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (error) {
      resolvePromise({ code: -1, output: String(error) });
      return;
    }
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', (error) => resolvePromise({ code: -1, output: `${output}${error.message}` }));
    child.on('close', (code) => resolvePromise({ code: code ?? -1, output }));
  });
}

async function runAll(jobs, parallel) {
  const results = [];
  let next = 0;
  async function lane() {
    while (next < jobs.length) {
      const job = jobs[next++];
      results.push({ job, ...(await run(job.cmd, job.args)) });
    }
  }
  await Promise.all(Array.from({ length: parallel }, lane));
  return results;
}

async function main() {
  mkdirSync(objDir, { recursive: true });
  rmSync(unavailablePath, { force: true });
  if (process.env.RANKWISE_NATIVE_SKIP_BUILD === '1') giveUp('skipped', 'build skipped (RANKWISE_NATIVE_SKIP_BUILD=1)');
  if (process.platform === 'win32') giveUp('platform', 'Windows is not supported by this addon (POSIX dlopen/pthreads)');

  const cc = process.env.CC || 'cc';
  const probe = spawnSync(cc, ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    giveUp(
      'compiler',
      `no working C compiler: '${cc} --version' ${probe.error ? `failed (${probe.error.code ?? probe.error.message})` : `exited with ${probe.status}`}`,
      { compiler: cc },
    );
  }
  const headers = findNodeHeaders();
  if (!headers.dir) {
    giveUp('headers', `Node-API headers (node_api.h) not found in: ${headers.candidates.join(', ')} (set RANKWISE_NODE_INCLUDE)`, { compiler: cc });
  }

  const x86 = process.arch === 'x64' || process.arch === 'ia32';
  const flags = [
    '-O3',
    '-std=c11',
    '-fPIC',
    '-fvisibility=hidden',
    '-fno-math-errno',
    '-fno-trapping-math',
    '-ffp-contract=off',
    '-fopenmp-simd',
    '-Wall',
    '-Wno-unused-parameter',
    '-D_GNU_SOURCE',
    '-DNAPI_VERSION=8',
    '-DNODE_GYP_MODULE_NAME=rankwise_native',
    `-I${headers.dir}`,
    `-I${nativeDir}`,
  ];
  if (x86) flags.push('-DRW_HAVE_AVX2');
  const jobs = [];
  for (const source of commonSources) {
    jobs.push({ source, out: join(objDir, source.replace(/\.c$/, '.o')), extra: [] });
  }
  for (const source of kernelSources) {
    // "base" is the portable build of the kernels; "avx2" is used when the CPU has AVX2 + FMA.
    jobs.push({ source, out: join(objDir, source.replace(/\.c$/, '.base.o')), extra: ['-DRW_ISA=base'] });
    if (x86) jobs.push({ source, out: join(objDir, source.replace(/\.c$/, '.avx2.o')), extra: ['-DRW_ISA=avx2', '-mavx2', '-mfma'] });
  }
  const started = Date.now();
  const compiled = await runAll(
    jobs.map((j) => ({ ...j, cmd: cc, args: [...flags, ...j.extra, '-c', join(nativeDir, j.source), '-o', j.out] })),
    Math.max(1, Math.min(4, cpus().length)),
  );
  const failed = compiled.find((r) => r.code !== 0);
  if (failed) {
    giveUp(
      'compile',
      `compiling ${failed.job.source} with ${cc} failed: ${failed.output.trim().split('\n').slice(0, 6).join(' | ') || `exit ${failed.code}`}`,
      { compiler: cc },
    );
  }
  const linkArgs = ['-shared', '-o', addonPath, ...jobs.map((j) => j.out), '-lpthread', '-lm'];
  if (process.platform === 'linux') linkArgs.push('-ldl');
  if (process.platform === 'darwin') linkArgs.push('-undefined', 'dynamic_lookup');
  const linked = await run(cc, linkArgs);
  if (linked.code !== 0) giveUp('link', `linking failed: ${linked.output.trim().split('\n').slice(0, 6).join(' | ')}`, { compiler: cc });

  // Load it once in a child process: a broken binary must become a reason, not a crash later.
  const check = spawnSync(process.execPath, ['-e', `const a = require(${JSON.stringify(addonPath)}); if (typeof a.init !== 'function') process.exit(3);`], {
    encoding: 'utf8',
  });
  if (check.status !== 0) giveUp('load', `built addon does not load: ${(check.stderr || '').trim().split('\n').slice(0, 4).join(' | ')}`, { compiler: cc });

  writeFileSync(
    infoPath,
    `${JSON.stringify({ compiler: cc, compilerVersion: probe.stdout.split('\n')[0], headers: headers.dir, flags, node: process.version, seconds: (Date.now() - started) / 1000 }, null, 2)}\n`,
  );
  log(`built ${addonPath} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

main().catch((error) => giveUp('unexpected', String(error?.stack ? error.stack : error)));
