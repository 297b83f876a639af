/**
 * The quantized matmul rankwise core runs when the backend has it (QUANTIZED_MATMUL_KERNEL in core's nn/): a kernel,
 * run through the engine so its output is tracked like any tensor, computed by the addon's qmatmul (tiles of W
 * dequantized inside the kernel; no float32 copy of W).
 */
import * as tf from '@tensorflow/tfjs-core';

import type { NativeBackend } from '../backend.js';
import type { QuantizedWeight } from '../types.js';
import { floatOutput, floatValues } from './context.js';

export const QUANTIZED_MATMUL = 'RankwiseQuantizedMatMul';

const TYPE_CODES = { nf4: 0, int8: 1, bf16: 2 } as const;
const EMPTY_U8 = new Uint8Array(0);
const EMPTY_F32 = new Float32Array(0);

/** Registers the kernel for the backend `name` (idempotent). */
export function registerQuantizedMatMul(name: string): void {
  if (tf.getKernel(QUANTIZED_MATMUL, name) != null) return;
  tf.registerKernel({
    kernelName: QUANTIZED_MATMUL,
    backendName: name,
    kernelFunc: ({ inputs, attrs, backend }) => {
      const native = backend as NativeBackend;
      const a = inputs.a as tf.TensorInfo;
      const w = (attrs as unknown as { weight: QuantizedWeight }).weight;
      const backward = (attrs as unknown as { mode: string }).mode === 'backward';
      const values = floatValues(native, a);
      const [n, k] = a.shape;
      if (!values || a.shape.length !== 2 || k !== (backward ? w.rows : w.cols)) {
        throw new Error(`${QUANTIZED_MATMUL}: input [${a.shape}] (${a.dtype}) does not fit W [${w.rows}, ${w.cols}] (${backward ? 'backward' : 'forward'})`);
      }
      const width = backward ? w.cols : w.rows;
      const out = native.allocFloat32(n * width);
      if (w.type === 'nf4') {
        native.addon.qmatmul(backward, values, out, n, w.rows, w.cols, TYPE_CODES.nf4, w.packed, w.qabsmax, w.absmax2, w.offset, w.code, w.absmaxCode);
      } else {
        const [data, scales] = w.type === 'int8' ? [w.codes, w.rowStats] : [w.bits, EMPTY_F32];
        native.addon.qmatmul(backward, values, out, n, w.rows, w.cols, TYPE_CODES[w.type], data, EMPTY_U8, scales, 0, EMPTY_F32, EMPTY_F32);
      }
      return floatOutput(native, [n, width], out);
    },
  });
}
