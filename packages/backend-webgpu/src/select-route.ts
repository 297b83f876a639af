import { softwareRefusal } from './adapter-report.js';
import { GPU_DRIVER_HINT, SOFTWARE_DRIVER_APT } from './install-hints.js';
import type { RouteProbe } from './probe.js';

export type RouteSelection = { ok: true; candidates: RouteProbe[] } | { ok: false; reason: string };

/**
 * Orders the routes that gave an adapter: hardware first (in route order), then — only when
 * software is allowed — software ones. Refuses with a one-line reason otherwise.
 */
export function selectRoutes(probes: readonly RouteProbe[], allowSoftware: boolean): RouteSelection {
  const withAdapter = probes.filter((probe) => probe.adapter);
  const hardware = withAdapter.filter((probe) => !probe.adapter?.software);
  const software = withAdapter.filter((probe) => probe.adapter?.software);
  const candidates = allowSoftware ? [...hardware, ...software] : hardware;
  if (candidates.length > 0) return { ok: true, candidates };
  if (software.length > 0 && software[0].adapter) {
    return { ok: false, reason: softwareRefusal(software[0].adapter) };
  }
  const why = probes.map((probe) => `${probe.route}: ${probe.problem ?? 'no adapter'}`).join('; ');
  return {
    ok: false,
    reason: `no WebGPU adapter (${why || 'no route enabled'}); install ${GPU_DRIVER_HINT}, or without a GPU: ${SOFTWARE_DRIVER_APT}`,
  };
}
