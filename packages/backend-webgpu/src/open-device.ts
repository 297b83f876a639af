import { reportAdapter, type AdapterReport } from './adapter-report.js';
import type { DawnAdapter, DawnDevice, DawnGpu, DawnModule } from './dawn-types.js';
import { prepareEnvironmentFor, routeRequest, type GpuRoute } from './routes.js';
import { withTimeout } from './timeout.js';

/** A live Dawn device and what it runs on. Keep `gpu` referenced: it owns the Dawn instance. */
export interface OpenedDevice {
  gpu: DawnGpu;
  adapter: DawnAdapter;
  device: DawnDevice;
  report: AdapterReport;
  /** Set once Dawn reports the device lost (destroyed, driver reset…). */
  lost?: string;
}

/** Limits tfjs-backend-webgpu asks for (its own registration does the same): the adapter's maxima. */
const RAISED_LIMITS = [
  'maxComputeWorkgroupStorageSize',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupSizeX',
  'maxComputeInvocationsPerWorkgroup',
] as const;

/** Requests the adapter and device of one route in this process, each step bounded by `timeoutMs`. Throws on failure. */
export async function openDevice(dawn: DawnModule, route: GpuRoute, timeoutMs: number): Promise<OpenedDevice> {
  prepareEnvironmentFor(route);
  const { flags, options } = routeRequest(route);
  const gpu = dawn.create(flags);
  const adapter = await withTimeout(gpu.requestAdapter(options), timeoutMs, `${route} adapter request`);
  if (!adapter) throw new Error(`${route}: no adapter in this process`);
  const requiredLimits: Record<string, number> = {};
  for (const name of RAISED_LIMITS) {
    const value = adapter.limits[name];
    if (typeof value === 'number') requiredLimits[name] = value;
  }
  const pending = adapter.requestDevice({ requiredLimits });
  let device: DawnDevice;
  try {
    device = await withTimeout(pending, timeoutMs, `${route} device creation`);
  } catch (error) {
    // A device that arrives after the deadline is destroyed instead of leaking.
    pending.then(
      (late) => late.destroy(),
      () => undefined,
    );
    throw error;
  }
  const opened: OpenedDevice = { gpu, adapter, device, report: reportAdapter(route, adapter.info) };
  device.lost.then(
    (info) => {
      opened.lost = `${info.reason}: ${info.message}`;
    },
    () => undefined,
  );
  return opened;
}
