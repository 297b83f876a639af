import * as tf from '@tensorflow/tfjs';
import { installChunkedAddN } from './add-n.js';
import type { DawnAdapterInfo, DawnDevice, DawnGpu } from './dawn-types.js';
import type { OpenedDevice } from './open-device.js';
import { withTimeout } from './timeout.js';

export const TF_BACKEND_NAME = 'webgpu';

/** tfjs-backend-webgpu's constructor, typed against the structural Dawn types. */
type WebGpuBackendConstructor = new (device: DawnDevice, adapterInfo: DawnAdapterInfo) => tf.KernelBackend;

/**
 * tfjs-backend-webgpu refuses to construct unless `navigator.gpu` exists (Node 20 has no
 * `navigator`; Node 21+ has one without `gpu`).
 */
function exposeNavigatorGpu(gpu: DawnGpu): void {
  const scope = globalThis as { navigator?: object };
  if (!scope.navigator) {
    Object.defineProperty(globalThis, 'navigator', { value: {}, configurable: true, writable: true });
  }
  const navigatorObject = scope.navigator as { gpu?: unknown };
  if (!navigatorObject.gpu) Object.defineProperty(navigatorObject, 'gpu', { value: gpu, configurable: true, writable: true });
}

/**
 * Registers the tfjs `webgpu` backend on an opened device and selects it. Checks
 * `tf.setBackend`'s boolean (a failed init leaves `tf.getBackend()` saying 'webgpu'), runs one
 * small kernel as a smoke test, and on any failure unregisters it and restores the previous
 * backend (or 'cpu') before throwing.
 */
export async function activateWebGpuBackend(opened: OpenedDevice, timeoutMs: number): Promise<void> {
  const previous = tf.getBackend() && tf.getBackend() !== TF_BACKEND_NAME ? tf.getBackend() : 'cpu';
  exposeNavigatorGpu(opened.gpu);
  // Importing registers all webgpu kernels (and the `WEBGPU_*` flags) with the shared tfjs-core.
  const { WebGPUBackend } = await import('@tensorflow/tfjs-backend-webgpu');
  // Its AddN binds every input to one shader and gives wrong sums past 7 inputs: sum in chunks instead.
  installChunkedAddN(TF_BACKEND_NAME);
  const Backend = WebGPUBackend as unknown as WebGpuBackendConstructor;
  // Without this tfjs quietly runs ops with small inputs on the CPU.
  tf.env().set('WEBGPU_CPU_FORWARD', false);
  if (tf.findBackendFactory(TF_BACKEND_NAME)) tf.removeBackend(TF_BACKEND_NAME);
  tf.registerBackend(TF_BACKEND_NAME, () => new Backend(opened.device, opened.adapter.info), 3);
  try {
    if (!(await tf.setBackend(TF_BACKEND_NAME))) throw new Error("tf.setBackend('webgpu') returned false");
    await withTimeout(smokeTest(), timeoutMs, 'first webgpu kernel');
  } catch (error) {
    await deactivateWebGpuBackend(previous);
    throw error;
  }
}

async function smokeTest(): Promise<void> {
  const input = tf.tensor1d([1, 2, 3]);
  const output = tf.add(input, 1);
  try {
    const values = await output.data();
    if (values[0] !== 2 || values[2] !== 4) throw new Error(`webgpu smoke test computed ${Array.from(values)} for [1,2,3]+1`);
  } finally {
    input.dispose();
    output.dispose();
  }
}

/** Unregisters the tfjs backend (disposing its GPU buffers) and switches to `fallback` if webgpu was current. */
export async function deactivateWebGpuBackend(fallback = 'cpu'): Promise<void> {
  const wasCurrent = tf.getBackend() === TF_BACKEND_NAME;
  if (tf.findBackendFactory(TF_BACKEND_NAME)) tf.removeBackend(TF_BACKEND_NAME);
  if (wasCurrent) await tf.setBackend(fallback);
}
