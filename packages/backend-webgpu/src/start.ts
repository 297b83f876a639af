import { softwareRefusal } from './adapter-report.js';
import type { BackendStartOptions, BackendStartResult, BackendStarted } from './contract.js';
import { installDawnGlobals, loadDawn } from './dawn.js';
import type { DawnModule } from './dawn-types.js';
import { openDevice, type OpenedDevice } from './open-device.js';
import { probeRoutesInProcess, probeRoutesIsolated, type RouteProbe } from './probe.js';
import { apiOf, routesFromEnv } from './routes.js';
import { selectRoutes } from './select-route.js';
import { activateWebGpuBackend, deactivateWebGpuBackend, TF_BACKEND_NAME } from './tf-backend.js';
import { errorMessage, timeoutFromEnv } from './timeout.js';

interface ActiveSession {
  opened: OpenedDevice;
  result: BackendStarted;
}

let active: ActiveSession | undefined;
let starting: Promise<BackendStartResult> | undefined;

/**
 * Finds an adapter (Vulkan first, then OpenGL ES in compatibility mode), opens a device,
 * registers and selects the tfjs `webgpu` backend. Never throws; every failure is `{ ok: false, reason }`.
 * Calling it again while started returns the same result (a software device is still refused
 * when `allowSoftware` is false).
 */
export function startWebGpu(options: BackendStartOptions): Promise<BackendStartResult> {
  if (active) return Promise.resolve(reuse(active, options));
  starting ??= startOnce(options).finally(() => {
    starting = undefined;
  });
  return starting.then((result) => (result.ok && active ? reuse(active, options) : result));
}

function reuse(session: ActiveSession, options: BackendStartOptions): BackendStartResult {
  const { report } = session.opened;
  if (report.software && !options.allowSoftware) {
    return { ok: false, reason: softwareRefusal(report) };
  }
  return session.result;
}

async function startOnce(options: BackendStartOptions): Promise<BackendStartResult> {
  try {
    const started = performance.now();
    const timeoutMs = timeoutFromEnv();
    const loaded = await loadDawn();
    if (!loaded.ok) return { ok: false, reason: loaded.reason };
    installDawnGlobals(loaded.dawn);
    const probes = await probeOnce(loaded.dawn, loaded.entry, timeoutMs);
    const selection = selectRoutes(probes, options.allowSoftware);
    if (!selection.ok) return { ok: false, reason: selection.reason };
    const failures: string[] = [];
    for (const candidate of selection.candidates) {
      try {
        const opened = await openDevice(loaded.dawn, candidate.route, timeoutMs);
        if (opened.report.software && !options.allowSoftware) {
          opened.device.destroy();
          failures.push(`${candidate.route}: got a software adapter in-process`);
          continue;
        }
        await activateOrDestroy(opened, timeoutMs);
        const result = describeStart(opened, probes, Math.round(performance.now() - started));
        active = { opened, result };
        return result;
      } catch (error) {
        failures.push(`${candidate.route}: ${errorMessage(error)}`);
      }
    }
    return { ok: false, reason: `webgpu adapter found but unusable (${failures.join('; ')})` };
  } catch (error) {
    return { ok: false, reason: `webgpu failed to start: ${errorMessage(error)}` };
  }
}

/** Drivers do not change while the process runs: probe each route set once (a refusal followed by a forced start reuses it). */
const probeCache = new Map<string, Promise<RouteProbe[]>>();

function probeOnce(dawn: DawnModule, entry: string, timeoutMs: number): Promise<RouteProbe[]> {
  const routes = routesFromEnv();
  const isolated = process.env.RANKWISE_WEBGPU_ISOLATED_PROBE !== '0';
  const key = `${routes.join(',')}|${isolated}`;
  let probes = probeCache.get(key);
  if (!probes) {
    probes = isolated ? probeRoutesIsolated(routes, entry, timeoutMs) : probeRoutesInProcess(routes, dawn, timeoutMs);
    probeCache.set(key, probes);
  }
  return probes;
}

async function activateOrDestroy(opened: OpenedDevice, timeoutMs: number): Promise<void> {
  try {
    await activateWebGpuBackend(opened, timeoutMs);
  } catch (error) {
    opened.device.destroy();
    throw error;
  }
}

function describeStart(opened: OpenedDevice, probes: readonly RouteProbe[], startMs: number): BackendStarted {
  const { report } = opened;
  const info: Record<string, string | number | boolean> = {
    vendor: report.vendor,
    architecture: report.architecture,
    device: report.device,
    description: report.description,
    isFallback: report.isFallback,
    software: report.software,
    backend: apiOf(report.route),
    dawnBackend: report.route,
    featureLevel: report.route === 'vulkan' ? 'core' : 'compatibility',
    driver: report.description,
    startMs,
  };
  for (const probe of probes) {
    if (probe.route !== report.route)
      info[`probe.${probe.route}`] = probe.adapter ? probe.adapter.description || probe.adapter.device : (probe.problem ?? 'no adapter');
  }
  return { ok: true, tfBackend: TF_BACKEND_NAME, kind: 'gpu', info };
}

/** What `start` settled on, while started. */
export function activeAdapter(): Readonly<BackendStarted['info']> | undefined {
  return active?.result.info;
}

/**
 * Unregisters the tfjs `webgpu` backend (switching to 'cpu' if it was current), destroys the Dawn
 * device and drops the instance, so nothing of Dawn's is left to keep the process alive.
 * Tensors still held on the webgpu backend become unusable. Safe to call more than once.
 */
export async function shutdownWebGpu(): Promise<void> {
  if (starting) await starting.catch(() => undefined);
  const session = active;
  active = undefined;
  if (!session) return;
  await deactivateWebGpuBackend('cpu');
  session.opened.device.destroy();
}
