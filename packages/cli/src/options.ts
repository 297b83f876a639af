import { resolve } from 'node:path';
import { BACKEND_REQUESTS, parseOverride, type BackendRequest, type Override } from '@rankwise/core';
import { parseRedisUrl, type GridQueueOptions } from '@rankwise/grid';

/** A bad command-line flag: exit code 2, like any invalid input. */
export class UsageError extends Error {
  readonly exitCode = 2;
}

export interface CommonRunFlags {
  out: string;
  backend?: string;
  seed?: string;
  set: string[];
  force?: boolean;
  workers?: string;
  queue?: string;
  store?: string;
  attempts?: string;
  quiet?: boolean;
  verbose?: boolean;
  resume?: string | boolean;
}

export interface ParsedRunFlags {
  out: string;
  backend?: BackendRequest;
  overrides: Override[];
  force: boolean;
  workers: number;
  /** --queue (with --store, --attempts): grid cells go to a BullMQ queue instead of running here. */
  queue?: GridQueueOptions;
  quiet: boolean;
  /** A run folder or "latest". */
  resume?: string;
}

/** Checks every flag before anything loads; `--seed` and `--backend` become overrides that are re-validated. */
export function parseRunFlags(flags: CommonRunFlags): ParsedRunFlags {
  const overrides: Override[] = [];
  for (const text of flags.set) {
    try {
      overrides.push(parseOverride(text));
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
  }
  let backend: BackendRequest | undefined;
  if (flags.backend !== undefined) {
    if (!BACKEND_REQUESTS.includes(flags.backend as BackendRequest)) {
      throw new UsageError(`--backend: found "${flags.backend}", allowed: ${BACKEND_REQUESTS.join(', ')}`);
    }
    backend = flags.backend as BackendRequest;
    overrides.push({ pointer: '/backend', value: backend, source: `--backend ${backend}` });
  }
  if (flags.seed !== undefined) {
    const seed = Number(flags.seed);
    if (!/^\d+$/.test(flags.seed) || !Number.isSafeInteger(seed) || seed > 4294967295) {
      throw new UsageError(`--seed: found "${flags.seed}", allowed: an integer from 0 to 4294967295`);
    }
    overrides.push({ pointer: '/seed', value: seed, source: `--seed ${seed}` });
  }
  const workers = flags.workers === undefined ? 1 : Number(flags.workers);
  if (!Number.isInteger(workers) || workers < 1 || workers > 64) {
    throw new UsageError(`--workers: found "${flags.workers}", allowed: an integer from 1 to 64`);
  }
  if (typeof flags.out !== 'string' || flags.out.trim() === '') throw new UsageError('--out: found an empty path, allowed: a directory for run folders');
  const resume = flags.resume === undefined || flags.resume === false ? undefined : flags.resume === true ? 'latest' : flags.resume;
  return {
    out: flags.out,
    backend,
    overrides,
    force: flags.force ?? false,
    workers,
    queue: parseQueueFlags(flags, workers),
    quiet: flags.quiet ?? false,
    resume,
  };
}

/** A positive integer flag, or a UsageError naming it. */
export function parseCount(flag: string, text: string, max: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < 1 || value > max) throw new UsageError(`${flag}: found "${text}", allowed: an integer from 1 to ${max}`);
  return value;
}

function parseQueueFlags(flags: CommonRunFlags, workers: number): GridQueueOptions | undefined {
  if (flags.queue === undefined) {
    for (const [flag, value] of [
      ['--store', flags.store],
      ['--attempts', flags.attempts],
    ] as const) {
      if (value !== undefined) throw new UsageError(`${flag} goes with --queue (it says where queued cells keep their files / how often they are tried)`);
    }
    return undefined;
  }
  if (workers > 1) throw new UsageError('--workers and --queue: pick one (queued cells run on `rankwise worker`s, each with its own --concurrency)');
  let address;
  try {
    address = parseRedisUrl(flags.queue);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  return {
    address,
    ...(flags.store !== undefined ? { store: resolve(flags.store) } : {}),
    ...(flags.attempts !== undefined ? { attempts: parseCount('--attempts', flags.attempts, 100) } : {}),
  };
}
