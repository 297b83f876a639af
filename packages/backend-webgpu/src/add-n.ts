import * as tf from '@tensorflow/tfjs';

/**
 * Most inputs one AddN shader may take. tfjs-backend-webgpu binds every input of AddN as a
 * storage buffer of one shader, plus one for the output; WebGPU's default
 * `maxStorageBuffersPerShaderStage` is 8 (we do not raise it, see open-device.ts), and past it
 * the pipeline is invalid and the kernel silently returns wrong values (zeros, or a stale buffer).
 */
export const ADD_N_MAX_INPUTS = 7;

/** The backend side of a kernel call that this file needs. */
interface DisposingBackend {
  disposeData(dataId: object, force?: boolean): boolean;
}

/** Kernel functions this file registered, so a second activation does not wrap its own wrapper. */
const chunkedKernels = new WeakSet<tf.KernelFunc>();

/**
 * Replaces the webgpu `AddN` kernel by one that sums at most {@link ADD_N_MAX_INPUTS} inputs per
 * shader: the first chunk with the original kernel, then the partial sum plus the next
 * `ADD_N_MAX_INPUTS - 1` inputs, and so on, disposing each partial sum. The additions stay in
 * the same left-to-right order as one shader would do them. With up to
 * {@link ADD_N_MAX_INPUTS} inputs it calls the original kernel unchanged. Idempotent.
 */
export function installChunkedAddN(backendName: string): void {
  const registered = tf.getKernel(tf.AddN, backendName);
  if (!registered) throw new Error(`no ${tf.AddN} kernel registered for ${backendName}`);
  if (chunkedKernels.has(registered.kernelFunc)) return;
  const original = registered.kernelFunc;
  const chunked: tf.KernelFunc = (args) => {
    const tensors = args.inputs as unknown as tf.TensorInfo[];
    if (!Array.isArray(tensors) || tensors.length <= ADD_N_MAX_INPUTS) return original(args);
    const backend = args.backend as DisposingBackend;
    let partial = sumOnce(original, args, tensors.slice(0, ADD_N_MAX_INPUTS));
    for (let start = ADD_N_MAX_INPUTS; start < tensors.length; start += ADD_N_MAX_INPUTS - 1) {
      const chunk = [partial, ...tensors.slice(start, start + ADD_N_MAX_INPUTS - 1)];
      try {
        partial = sumOnce(original, args, chunk);
      } finally {
        backend.disposeData(chunk[0].dataId);
      }
    }
    return partial;
  };
  chunkedKernels.add(chunked);
  tf.unregisterKernel(tf.AddN, backendName);
  tf.registerKernel({ ...registered, kernelFunc: chunked });
}

/** One call of the original kernel on `tensors` (AddN's inputs are an array passed as the input map). */
function sumOnce(kernel: tf.KernelFunc, args: Parameters<tf.KernelFunc>[0], tensors: tf.TensorInfo[]): tf.TensorInfo {
  const result = kernel({ ...args, inputs: tensors as unknown as tf.NamedTensorInfoMap });
  if (Array.isArray(result)) throw new Error(`${tf.AddN} returned ${result.length} outputs`);
  return result;
}
