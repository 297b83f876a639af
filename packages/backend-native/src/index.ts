/**
 * @rankwise/backend-native: a TensorFlow.js backend named 'native' for Node (CPU): cblas_sgemm
 * from a dlopen'ed OpenBLAS, SIMD + threaded float32 kernels, and a fused Adam/AdamW.
 */
export { provider, startNativeBackend, DEFAULT_BLAS_PATHS, INSTALL_HINT, type NativeStartOptions } from './provider.js';
export { NativeAdamOptimizer } from './adam.js';
export { NATIVE_BACKEND_NAME, nativeFallbackCounts, nativeKernelNames } from './backend.js';
export { chooseCoretype, coretypeForFlags, coretypeProblem, parseCpuinfo, type CoretypeChoice } from './coretype.js';
export type {
  AdamSpec,
  BackendProvider,
  BackendStarted,
  BackendStartOptions,
  BackendStartResult,
  BackendUnavailable,
} from './types.js';
