/**
 * OPENBLAS_CORETYPE choice. Debian's DYNAMIC_ARCH OpenBLAS 0.3.21 can misdetect newer CPUs and fall
 * back to slow "Prescott" kernels; naming the core type before the library loads avoids that.
 * An OPENBLAS_CORETYPE already in the environment always wins.
 */
import { readFileSync } from 'node:fs';

export interface CoretypeChoice {
  /** Value to set ('' = leave it to OpenBLAS's own detection). */
  coretype: string;
  source: 'environment' | 'cpuinfo' | 'none';
  /** Why, in a few words (the CPU flag that decided it). */
  detail: string;
  /** Set when the environment names a core type this CPU cannot execute (loading it would crash). */
  problem?: string;
}

/** Flags line and vendor of the first CPU in /proc/cpuinfo text. */
export function parseCpuinfo(text: string): { flags: Set<string>; vendor: string } {
  const flagsLine = /^flags\s*:\s*(.*)$/m.exec(text)?.[1] ?? '';
  const vendor = /^vendor_id\s*:\s*(.*)$/m.exec(text)?.[1]?.trim() ?? '';
  return { flags: new Set(flagsLine.trim().split(/\s+/).filter(Boolean)), vendor };
}

/**
 * avx512 (bf16) → Cooperlake, avx512 → SkylakeX, avx2 + fma → Zen on AMD / Haswell otherwise,
 * avx → Sandybridge. On a Zen 3 EPYC, Zen and Haswell measured the same sgemm speed (OpenBLAS's
 * Zen target uses the Haswell kernels), both 3-4x Prescott's (see README).
 */
export function coretypeForFlags(flags: Set<string>, vendor = ''): { coretype: string; detail: string } {
  if (flags.has('avx512f') && flags.has('avx512bw') && flags.has('avx512vl')) {
    return flags.has('avx512_bf16') ? { coretype: 'Cooperlake', detail: 'avx512_bf16' } : { coretype: 'SkylakeX', detail: 'avx512f' };
  }
  if (flags.has('avx2') && flags.has('fma')) {
    return vendor === 'AuthenticAMD' ? { coretype: 'Zen', detail: 'AMD, avx2+fma' } : { coretype: 'Haswell', detail: 'avx2+fma' };
  }
  if (flags.has('avx')) return { coretype: 'Sandybridge', detail: 'avx' };
  return { coretype: '', detail: 'no avx: OpenBLAS detects' };
}

/** CPU flags a core type's kernels execute (OpenBLAS dies with SIGILL on a CPU without them). */
const requiredFlags: Record<string, string[]> = {
  cooperlake: ['avx512f', 'avx512bw', 'avx512vl', 'avx512_bf16'],
  sapphirerapids: ['avx512f', 'avx512bw', 'avx512vl', 'avx512_bf16'],
  skylakex: ['avx512f', 'avx512bw', 'avx512vl'],
  haswell: ['avx2', 'fma'],
  zen: ['avx2', 'fma'],
  excavator: ['avx2'],
  sandybridge: ['avx'],
};

/** Why `coretype` cannot run on a CPU with these flags (undefined when it can, or is unknown here). */
export function coretypeProblem(coretype: string, flags: Set<string>): string | undefined {
  const missing = (requiredFlags[coretype.toLowerCase()] ?? []).filter((flag) => !flags.has(flag));
  return missing.length ? `OPENBLAS_CORETYPE=${coretype} needs ${missing.join(', ')}, which this CPU lacks` : undefined;
}

function readCpuinfo(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

export function chooseCoretype(env: NodeJS.ProcessEnv = process.env, cpuinfoPath = '/proc/cpuinfo'): CoretypeChoice {
  const fromEnv = env.OPENBLAS_CORETYPE;
  if (fromEnv) {
    const text = process.arch === 'x64' ? readCpuinfo(cpuinfoPath) : undefined;
    const problem = text ? coretypeProblem(fromEnv, parseCpuinfo(text).flags) : undefined;
    return { coretype: fromEnv, source: 'environment', detail: problem ?? 'OPENBLAS_CORETYPE set', problem };
  }
  if (process.arch !== 'x64') return { coretype: '', source: 'none', detail: `${process.arch}: OpenBLAS detects` };
  const text = readCpuinfo(cpuinfoPath);
  if (text === undefined) return { coretype: '', source: 'none', detail: `${cpuinfoPath} unreadable: OpenBLAS detects` };
  const { flags, vendor } = parseCpuinfo(text);
  const { coretype, detail } = coretypeForFlags(flags, vendor);
  return { coretype, source: coretype ? 'cpuinfo' : 'none', detail };
}
