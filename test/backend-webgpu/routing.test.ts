/** Pure route-selection logic: runs everywhere, with or without a GPU. */
import { describe, expect, it } from 'vitest';
import { reportAdapter } from '../../packages/backend-webgpu/src/adapter-report.js';
import { explainDawnWarnings } from '../../packages/backend-webgpu/src/install-hints.js';
import type { RouteProbe } from '../../packages/backend-webgpu/src/probe.js';
import { routesFromEnv } from '../../packages/backend-webgpu/src/routes.js';
import { selectRoutes } from '../../packages/backend-webgpu/src/select-route.js';

const lavapipe = reportAdapter('vulkan', {
  vendor: 'mesa',
  architecture: 'software',
  device: 'llvmpipe-llvm-15-0-6-256-bits-',
  description: 'llvmpipe: Mesa 25.0.7-2~bpo12+1 (LLVM 15.0.6) 0.0.1',
  isFallbackAdapter: true,
});
// Dawn's GL backend says isFallbackAdapter: false for llvmpipe: the name must give it away.
const glLlvmpipe = reportAdapter('opengles', {
  vendor: '',
  architecture: '',
  device: 'llvmpipe-llvm-15-0-6-256-bits-',
  description: 'OpenGL version OpenGL ES 3.2 Mesa 22.3.6',
  isFallbackAdapter: false,
});
const nvidia = reportAdapter('vulkan', {
  vendor: 'nvidia',
  architecture: 'hopper',
  device: 'NVIDIA H200',
  description: 'NVIDIA: 570.86',
  isFallbackAdapter: false,
});

const probe = (route: RouteProbe['route'], adapter?: RouteProbe['adapter'], problem?: string): RouteProbe => ({ route, adapter, problem, ms: 1 });

describe('adapter classification', () => {
  it('treats lavapipe and GL llvmpipe as software, a real GPU as hardware', () => {
    expect(lavapipe).toMatchObject({ software: true, isFallback: true });
    expect(glLlvmpipe).toMatchObject({ software: true, isFallback: false });
    expect(nvidia).toMatchObject({ software: false, isFallback: false });
  });
});

describe('selectRoutes', () => {
  it('refuses software-only adapters unless allowed, naming the driver', () => {
    const probes = [probe('vulkan', lavapipe), probe('opengles', glLlvmpipe)];
    expect(selectRoutes(probes, false)).toEqual({ ok: false, reason: 'software adapter only (llvmpipe); use --backend webgpu to run on it anyway' });
    const allowed = selectRoutes(probes, true);
    expect(allowed.ok && allowed.candidates.map((p) => p.route)).toEqual(['vulkan', 'opengles']);
  });

  it('prefers a hardware adapter on any route over a software one', () => {
    const hardwareGl = reportAdapter('opengles', {
      vendor: 'x',
      architecture: '',
      device: 'AMD Radeon',
      description: 'OpenGL ES 3.2 Mesa 25',
      isFallbackAdapter: false,
    });
    const selection = selectRoutes([probe('vulkan', lavapipe), probe('opengles', hardwareGl)], true);
    expect(selection.ok && selection.candidates.map((p) => p.route)).toEqual(['opengles', 'vulkan']);
    expect(selectRoutes([probe('vulkan', nvidia)], false).ok).toBe(true);
  });

  it('explains every route and what to install when nothing answers', () => {
    const selection = selectRoutes([probe('vulkan', undefined, 'Vulkan loader libvulkan.so.1 missing (apt-get install libvulkan1)'), probe('opengles')], true);
    expect(selection.ok).toBe(false);
    if (selection.ok) return;
    expect(selection.reason).toMatch(/^no WebGPU adapter \(vulkan: Vulkan loader libvulkan\.so\.1 missing .*; opengles: no adapter\)/);
    expect(selection.reason).toContain('apt-get install mesa-vulkan-drivers/bookworm-backports libvulkan1');
    expect(selection.reason).toContain('NVIDIA');
  });
});

describe('Dawn warnings', () => {
  it.each([
    ["Warning: Couldn't load Vulkan: libvulkan.so.1: cannot open shared object file", /libvulkan1/],
    ['Warning: Vulkan shaderUniform*ArrayDynamicIndexing required.', /Mesa < 23 lavapipe/],
    ['Warning: vkCreateInstance: Found no drivers!', /no Vulkan ICD/],
    ['Warning: eglInitialize failed with EGL_NOT_INITIALIZED', /EGL could not initialise/],
  ])('%s', (line, expected) => {
    expect(explainDawnWarnings([line])).toMatch(expected);
  });

  it('ignores the harmless limit notice', () => {
    expect(explainDawnWarnings(['Warning: maxDynamicUniformBuffersPerPipelineLayout artificially reduced from 90 to 16'])).toBeUndefined();
  });
});

describe('RANKWISE_WEBGPU_ROUTES', () => {
  it('defaults to Vulkan then OpenGL ES, and can restrict or reorder', () => {
    expect(routesFromEnv({})).toEqual(['vulkan', 'opengles']);
    expect(routesFromEnv({ RANKWISE_WEBGPU_ROUTES: 'opengl, vulkan,bogus' })).toEqual(['opengl', 'vulkan']);
  });
});
