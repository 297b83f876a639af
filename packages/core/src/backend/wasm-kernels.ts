import * as tf from '@tensorflow/tfjs';

/** The parts of tfjs-backend-wasm's BackendWasm that a JavaScript kernel needs. */
interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

/**
 * UnsortedSegmentSum for the wasm backend, which lacks it; it is the gradient of `gather`, so embeddings
 * cannot train there without it. x: [n, ...rest], segmentIds: [n] → [numSegments, ...rest];
 * ids outside [0, numSegments) are dropped, as in TensorFlow.
 */
function unsortedSegmentSum({ inputs, attrs, backend }: { inputs: tf.NamedTensorInfoMap; attrs?: tf.NamedAttrMap; backend: unknown }): tf.TensorInfo {
  const wasm = backend as WasmBackendLike;
  const { x, segmentIds: ids } = inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
  const numSegments = (attrs as { numSegments: number }).numSegments;
  const rows = ids.shape.reduce((a, b) => a * b, 1);
  const inner = x.shape.slice(ids.shape.length).reduce((a, b) => a * b, 1);
  const out = wasm.makeOutput([numSegments, ...x.shape.slice(ids.shape.length)], x.dtype);
  const xv = wasm.typedArrayFromHeap(x);
  const iv = wasm.typedArrayFromHeap(ids);
  const ov = wasm.typedArrayFromHeap(out);
  ov.fill(0);
  for (let row = 0; row < rows; row++) {
    const segment = iv[row];
    if (segment < 0 || segment >= numSegments) continue;
    const src = row * inner;
    const dst = segment * inner;
    for (let k = 0; k < inner; k++) ov[dst + k] += xv[src + k];
  }
  return out;
}

export function registerWasmKernels(): void {
  if (tf.getKernel('UnsortedSegmentSum', 'wasm')) return;
  tf.registerKernel({ kernelName: 'UnsortedSegmentSum', backendName: 'wasm', kernelFunc: unsortedSegmentSum as unknown as tf.KernelFunc });
}
