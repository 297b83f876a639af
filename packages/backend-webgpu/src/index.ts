export { provider } from './provider.js';
export { startWebGpu, shutdownWebGpu, activeAdapter } from './start.js';
export { TF_BACKEND_NAME } from './tf-backend.js';
export type { AdapterReport } from './adapter-report.js';
export type { GpuRoute } from './routes.js';
export type {
  AdamSpec,
  BackendProvider,
  BackendStartOptions,
  BackendStartResult,
  BackendStarted,
  BackendUnavailable,
} from './contract.js';
