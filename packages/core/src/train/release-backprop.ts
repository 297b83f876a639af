import * as tf from '@tensorflow/tfjs';

/**
 * tfjs's backward pass (tfjs-core tape.ts, backpropagateGradients) keeps every activation's gradient and every tensor
 * saved for the backward pass until the whole pass ends, so peak memory is all activations plus all their gradients.
 * PyTorch frees both as soon as the node that needs them is done. This gives tfjs the same behaviour: called at the
 * end of the loss function of `tf.variableGrads` (the tape is complete then, and not yet filtered), it wraps each
 * recorded node's gradient so that, when the backward pass reaches the next node, the previous node's incoming
 * gradients (dys) and its saved tensors are disposed. The gradients come out bit-identical (test/core/release-backprop.test.ts).
 *
 * It relies on tfjs-core 4.x engine internals (`engine().state.activeTape`, tape nodes' `gradient` and `saved`),
 * checked at runtime: when they are not there it does nothing. Only first-order gradients with the default dy (ones)
 * are touched: under nested gradients (gradientDepth > 1) a tape node's dys may be needed again.
 */

/** What this relies on of a tfjs-core tape node (tfjs-core/dist/tape.d.ts, TapeNode). */
interface TapeNode {
  inputs: Record<string, tf.Tensor>;
  gradient?: (dys: Array<tf.Tensor | null>) => Record<string, () => tf.Tensor>;
  saved?: tf.Tensor[];
}

interface EngineState {
  activeTape?: TapeNode[] | null;
  gradientDepth?: number;
}

export function releaseDuringBackprop(): void {
  const state = (tf.engine() as unknown as { state?: EngineState }).state;
  const tape = state?.activeTape;
  if (!Array.isArray(tape) || state?.gradientDepth !== 1) return;
  // Frees what the node whose gradient ran last no longer needs; run when the backward pass reaches the next node
  // (nodes are visited one at a time, each node's input gradients all computed before the next node starts).
  let releasePrevious: (() => void) | null = null;
  for (const node of tape) {
    const gradient = node.gradient;
    if (typeof gradient !== 'function' || (gradient as { released?: true }).released) continue;
    const wrapped = (dys: Array<tf.Tensor | null>): Record<string, () => tf.Tensor> => {
      releasePrevious?.();
      const thunks = gradient(dys);
      const handedOut = new Set<tf.Tensor>(dys.filter((dy): dy is tf.Tensor => dy !== null));
      const result: Record<string, () => tf.Tensor> = {};
      for (const [input, thunk] of Object.entries(thunks)) {
        result[input] = () => {
          const dx = thunk();
          // A gradient that is one of the dys (or another input's gradient) must be its own tensor object, or
          // disposing the dys below (or the other input's gradient later) would dispose it too. A clone shares the data.
          const own = handedOut.has(dx) ? dx.clone() : dx;
          handedOut.add(own);
          return own;
        };
      }
      releasePrevious = () => {
        releasePrevious = null;
        for (const dy of dys) dy?.dispose();
        for (const t of node.saved ?? []) t.dispose();
      };
      return result;
    };
    (wrapped as { released?: true }).released = true;
    node.gradient = wrapped;
  }
}
