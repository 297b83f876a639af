import * as tf from '@tensorflow/tfjs';
import { dequantizeWeight } from './quant/quantize.js';
import type { QuantizedWeight } from './quant/types.js';

/**
 * The kernel a backend registers (tf.registerKernel) to multiply by a quantized weight in place; inputs { a }, attrs
 * { weight: QuantizedWeight, mode: 'forward' | 'backward' }. The native backend has one.
 */
export const QUANTIZED_MATMUL_KERNEL = 'RankwiseQuantizedMatMul';

/**
 * x·Wᵀ for a frozen weight W [out, in] stored quantized: x [N, in] → [N, out], differentiable in x (dx = dy·W; W takes
 * no gradient). A backend that registers QUANTIZED_MATMUL_KERNEL (the native one: tiles of W dequantized inside the kernel, no
 * float32 copy of W) runs both products; other backends dequantize the whole layer into a float32 tensor for the
 * product and free it right after, in the forward and again in the backward pass (nothing of W is saved in between).
 */
export function quantizedMatMul(x: tf.Tensor2D, w: QuantizedWeight): tf.Tensor2D {
  if (x.shape[1] !== w.cols) throw new Error(`quantized matmul: x is [${x.shape}], W is [${w.rows}, ${w.cols}] (out, in)`);
  const product = tf.customGrad(((input: tf.Tensor2D, save: tf.GradSaveFunc) => {
    save([]);
    return {
      value: apply(input, w, 'forward'), // [N, in]·[in, out] → [N, out]
      gradFunc: (dy: tf.Tensor2D) => apply(dy, w, 'backward'), // [N, out]·[out, in] → [N, in]
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return product(x) as tf.Tensor2D;
}

/** forward: a [N, in] → a·Wᵀ [N, out]; backward: a [N, out] → a·W [N, in]. */
function apply(a: tf.Tensor2D, w: QuantizedWeight, mode: 'forward' | 'backward'): tf.Tensor2D {
  if (tf.getKernel(QUANTIZED_MATMUL_KERNEL, tf.getBackend()) != null) {
    return tf.engine().runKernel(QUANTIZED_MATMUL_KERNEL, { a }, { weight: w, mode } as unknown as tf.NamedAttrMap) as tf.Tensor2D;
  }
  return tf.tidy(() => {
    const dense = tf.tensor2d(dequantizeWeight(w), [w.rows, w.cols]); // [out, in], freed with the tidy
    return mode === 'forward' ? tf.matMul(a, dense, false, true) : tf.matMul(a, dense);
  });
}
