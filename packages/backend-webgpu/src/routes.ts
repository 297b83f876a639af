import type { DawnAdapterOptions } from './dawn-types.js';

/** Dawn backends this package tries, in order of preference. */
export type GpuRoute = 'vulkan' | 'opengles' | 'opengl';

export const DEFAULT_ROUTES: readonly GpuRoute[] = ['vulkan', 'opengles'];
const ALL_ROUTES: readonly GpuRoute[] = ['vulkan', 'opengles', 'opengl'];

/** How one route asks Dawn for an adapter: instance flags for `create()` and `requestAdapter` options. */
export interface RouteRequest {
  route: GpuRoute;
  flags: string[];
  options: DawnAdapterOptions;
}

export function routeRequest(route: GpuRoute): RouteRequest {
  const options: DawnAdapterOptions = { powerPreference: 'high-performance' };
  // Dawn's GL backends only implement WebGPU's compatibility feature level.
  if (route !== 'vulkan') options.featureLevel = 'compatibility';
  return { route, flags: [`backend=${route}`], options };
}

/** The API family reported in `info.backend`. */
export function apiOf(route: GpuRoute): 'vulkan' | 'opengl' {
  return route === 'vulkan' ? 'vulkan' : 'opengl';
}

/**
 * `RANKWISE_WEBGPU_ROUTES=vulkan,opengles` restricts / reorders the routes (`opengl` = desktop GL).
 * Unknown names are ignored; an empty or absent value means the default order.
 */
export function routesFromEnv(env: NodeJS.ProcessEnv = process.env): GpuRoute[] {
  const raw = env.RANKWISE_WEBGPU_ROUTES?.trim();
  if (!raw) return [...DEFAULT_ROUTES];
  const picked = raw
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter((name): name is GpuRoute => (ALL_ROUTES as readonly string[]).includes(name));
  return [...new Set(picked)];
}

/** Dawn's GL backends go through EGL; without a display, Mesa needs the surfaceless platform. */
export function prepareEnvironmentFor(route: GpuRoute): void {
  if (route !== 'vulkan' && !process.env.EGL_PLATFORM) process.env.EGL_PLATFORM = 'surfaceless';
}
