import type { DawnAdapterInfo } from './dawn-types.js';
import type { GpuRoute } from './routes.js';

/** What we know about the adapter one route produced. */
export interface AdapterReport {
  route: GpuRoute;
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** Dawn's own fallback bit (true for lavapipe on Vulkan; Dawn's GL backend reports llvmpipe as false). */
  isFallback: boolean;
  /** A CPU rasteriser: the fallback bit, or a known software driver name. */
  software: boolean;
}

const SOFTWARE_DRIVERS = /llvmpipe|lavapipe|softpipe|swiftshader|swrast|software rasterizer/i;

export function reportAdapter(route: GpuRoute, info: DawnAdapterInfo): AdapterReport {
  const fields = {
    vendor: info.vendor ?? '',
    architecture: info.architecture ?? '',
    device: info.device ?? '',
    description: info.description ?? '',
  };
  const isFallback = info.isFallbackAdapter === true;
  const named = [fields.device, fields.description, fields.architecture].some((text) => SOFTWARE_DRIVERS.test(text));
  const softwareArch = fields.architecture.toLowerCase() === 'software';
  return { route, ...fields, isFallback, software: isFallback || named || softwareArch };
}

/** Short name for messages: "llvmpipe", "SwiftShader", or the device string. */
export function softwareName(report: AdapterReport): string {
  const match = `${report.device} ${report.description}`.match(SOFTWARE_DRIVERS);
  return match ? match[0] : report.device || report.description || 'unknown';
}

/** Why a software adapter is refused when software was not asked for. */
export function softwareRefusal(report: AdapterReport): string {
  return `software adapter only (${softwareName(report)}); use --backend webgpu to run on it anyway`;
}
