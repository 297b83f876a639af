/** The one BullMQ queue grid cells travel on (any number of grids and coordinators may share it). */
export const CELL_QUEUE = 'rankwise-cells';

/** How long a worker's lock on a running cell lasts, how often workers look for stalled cells, how often a cell may stall. */
export interface StallSettings {
  lockDurationMs: number;
  stalledIntervalMs: number;
  maxStalledCount: number;
}

/**
 * Defaults suit cells that run minutes to hours: a worker renews its lock every lockDuration / 2 from a process that
 * never trains (cells run in child processes), so a lost lock means a lost worker; another worker takes the cell over
 * within lockDuration + stalledInterval. RANKWISE_QUEUE_LOCK_MS / RANKWISE_QUEUE_STALLED_MS / RANKWISE_QUEUE_MAX_STALLED
 * override them (tests shorten them).
 */
export function stallSettings(env: NodeJS.ProcessEnv = process.env): StallSettings {
  return {
    lockDurationMs: envInt(env, 'RANKWISE_QUEUE_LOCK_MS', 30_000, 500),
    stalledIntervalMs: envInt(env, 'RANKWISE_QUEUE_STALLED_MS', 30_000, 200),
    maxStalledCount: envInt(env, 'RANKWISE_QUEUE_MAX_STALLED', 3, 0),
  };
}

function envInt(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) throw new Error(`${name}: found "${text}", allowed: an integer ≥ ${min}`);
  return value;
}

/** Attempts per cell before it is reported failed (a lost worker does not use one up: that is a stall). */
export const DEFAULT_ATTEMPTS = 2;

/** Finished jobs (with their results) stay in Redis this long, so a coordinator restarted later still finds them. */
export const KEEP_FINISHED_S = 7 * 24 * 3600;
