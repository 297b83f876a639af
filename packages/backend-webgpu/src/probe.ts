import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { reportAdapter, type AdapterReport } from './adapter-report.js';
import type { DawnAdapterInfo, DawnModule } from './dawn-types.js';
import { explainDawnWarnings } from './install-hints.js';
import { prepareEnvironmentFor, routeRequest, type GpuRoute } from './routes.js';
import { errorMessage, withTimeout } from './timeout.js';

/** The outcome of asking one route for an adapter. */
export interface RouteProbe {
  route: GpuRoute;
  adapter?: AdapterReport;
  /** Why the route gave no adapter, when it did not. */
  problem?: string;
  ms: number;
}

const PROBE_SCRIPT = fileURLToPath(new URL('../scripts/probe-adapter.mjs', import.meta.url));

interface ProbeAnswer {
  ok: boolean;
  info?: DawnAdapterInfo;
  error?: string;
}

/**
 * Probes each route in its own short-lived Node process, all at once. A driver that segfaults
 * or blocks inside Vulkan/EGL initialisation only costs that child, which is killed at `timeoutMs`.
 */
export function probeRoutesIsolated(routes: readonly GpuRoute[], dawnEntry: string, timeoutMs: number): Promise<RouteProbe[]> {
  return Promise.all(routes.map((route) => probeIsolated(route, dawnEntry, timeoutMs)));
}

function probeIsolated(route: GpuRoute, dawnEntry: string, timeoutMs: number): Promise<RouteProbe> {
  prepareEnvironmentFor(route);
  const started = performance.now();
  const { flags, options } = routeRequest(route);
  const args = [PROBE_SCRIPT, dawnEntry, JSON.stringify({ flags, options })];
  return new Promise((resolve) => {
    execFile(process.execPath, args, { timeout: timeoutMs, killSignal: 'SIGKILL', env: process.env }, (error, stdout, stderr) => {
      const ms = Math.round(performance.now() - started);
      const warnings = stderr
        .split('\n')
        .map((line) => line.trim())
        .filter(Boolean);
      const answer = parseAnswer(stdout);
      if (answer?.ok && answer.info) {
        resolve({ route, adapter: reportAdapter(route, answer.info), ms });
        return;
      }
      const hint = explainDawnWarnings(warnings);
      let problem: string;
      if (error && (error.killed || error.signal === 'SIGKILL')) problem = `adapter probe hung, killed after ${timeoutMs} ms`;
      else if (error?.signal) problem = `adapter probe crashed (${error.signal})${hint ? `: ${hint}` : ''}`;
      else problem = hint ?? answer?.error ?? `adapter probe failed${error ? `: ${errorMessage(error)}` : ''}`;
      resolve({ route, problem, ms });
    });
  });
}

function parseAnswer(stdout: string): ProbeAnswer | undefined {
  const line = stdout.trim().split('\n').pop();
  if (!line) return undefined;
  try {
    return JSON.parse(line) as ProbeAnswer;
  } catch {
    return undefined;
  }
}

/** Probes routes one by one inside this process (RANKWISE_WEBGPU_ISOLATED_PROBE=0): faster, but a crashing driver crashes us. */
export async function probeRoutesInProcess(routes: readonly GpuRoute[], dawn: DawnModule, timeoutMs: number): Promise<RouteProbe[]> {
  const probes: RouteProbe[] = [];
  for (const route of routes) {
    prepareEnvironmentFor(route);
    const started = performance.now();
    const { flags, options } = routeRequest(route);
    try {
      const adapter = await withTimeout(dawn.create(flags).requestAdapter(options), timeoutMs, `${route} adapter request`);
      const ms = Math.round(performance.now() - started);
      probes.push(adapter ? { route, adapter: reportAdapter(route, adapter.info), ms } : { route, problem: 'no adapter', ms });
    } catch (error) {
      probes.push({ route, problem: errorMessage(error), ms: Math.round(performance.now() - started) });
    }
  }
  return probes;
}
