import * as tf from '@tensorflow/tfjs';
import { BACKEND_NAMES, defaultCandidates, type BackendCandidate, type BackendName } from './candidates.js';
import { defaultModuleLoader, type ModuleLoader } from './module-loader.js';
import type { BackendStarted } from './provider.js';

export type BackendRequest = 'auto' | BackendName;
export const BACKEND_REQUESTS: readonly BackendRequest[] = ['auto', ...BACKEND_NAMES];

export interface SkippedBackend {
  name: BackendName;
  reason: string;
  /** What `--verbose` adds to the reason. */
  detail?: string;
}

export interface ResolvedBackend extends Omit<BackendStarted, 'ok'> {
  name: BackendName;
  requested: BackendRequest;
  /** Why this backend: asked for by name, or the first of the auto order that started. */
  reason: string;
  /** Backends tried before this one in auto order, each with why it was passed over. */
  skipped: SkippedBackend[];
}

export interface ResolveOptions {
  loader?: ModuleLoader;
  candidates?: BackendCandidate[];
}

/** A backend asked for by name that cannot start. */
export class BackendUnavailableError extends Error {
  constructor(
    readonly backend: BackendName,
    readonly reason: string,
    readonly install: string,
  ) {
    super(`backend "${backend}" is not available: ${reason}. To use it: ${install}`);
    this.name = 'BackendUnavailableError';
  }
}

let active: ResolvedBackend | null = null;

/** The backend chosen by the last `resolveBackend`, or null. */
export function activeBackend(): ResolvedBackend | null {
  return active && tf.getBackend() === active.tfBackend ? active : null;
}

/**
 * Starts the requested backend, or with `auto` the fastest that starts: tensorflow-gpu, webgpu on a hardware
 * adapter, tensorflow, native, wasm, cpu. Reports what it chose and why each earlier one was passed over.
 */
export async function resolveBackend(request: BackendRequest = 'auto', options: ResolveOptions = {}): Promise<ResolvedBackend> {
  if (!BACKEND_REQUESTS.includes(request)) {
    throw new Error(`unknown backend "${request}"; allowed: ${BACKEND_REQUESTS.join(', ')}`);
  }
  const loader = options.loader ?? defaultModuleLoader;
  const candidates = options.candidates ?? defaultCandidates();
  const skipped: SkippedBackend[] = [];
  for (const candidate of candidates) {
    if (request !== 'auto' && candidate.name !== request) continue;
    const result = await candidate.start(loader, { allowSoftware: request !== 'auto' });
    if (result.ok) {
      const reason = request === 'auto' ? 'fastest available (auto)' : 'requested';
      const { ok: _ok, ...started } = result;
      active = { ...started, name: candidate.name, requested: request, reason, skipped };
      return active;
    }
    if (request !== 'auto') throw new BackendUnavailableError(candidate.name, withDetail(result.reason, result.detail, true), candidate.install);
    skipped.push({ name: candidate.name, reason: result.reason, ...(result.detail ? { detail: result.detail } : {}) });
  }
  throw new Error(`no TensorFlow.js backend could start: ${skipped.map((s) => `${s.name}: ${withDetail(s.reason, s.detail, true)}`).join('; ')}`);
}

function withDetail(reason: string, detail: string | undefined, verbose: boolean): string {
  return verbose && detail ? `${reason} [${detail}]` : reason;
}

/** Whether logs include each skipped backend's details: `rankwise run --verbose` sets RANKWISE_VERBOSE=1. */
export function verboseBackendLog(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.RANKWISE_VERBOSE === '1';
}

/**
 * One line for logs: `backend native (fastest available (auto)) blas=… | skipped tensorflow-gpu: not installed …`;
 * `verbose` adds each skipped backend's details (e.g. every BLAS path tried).
 */
export function describeBackend(backend: ResolvedBackend, verbose = verboseBackendLog()): string {
  const info = Object.entries(backend.info)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  const skipped = backend.skipped.map((s) => `${s.name}: ${withDetail(s.reason, s.detail, verbose)}`).join('; ');
  return `backend ${backend.name} (${backend.reason})${info ? ` ${info}` : ''}${skipped ? ` | skipped ${skipped}` : ''}`;
}
