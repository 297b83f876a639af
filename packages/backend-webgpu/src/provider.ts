import type { BackendProvider } from './contract.js';
import { PROVIDER_INSTALL } from './install-hints.js';
import { startWebGpu } from './start.js';

/** `@rankwise/backend-webgpu`'s backend provider: TensorFlow.js WebGPU on Dawn (Vulkan, else OpenGL ES). */
export const provider: BackendProvider = {
  name: 'webgpu',
  kind: 'gpu',
  install: PROVIDER_INSTALL,
  start: (options) => startWebGpu(options),
};
