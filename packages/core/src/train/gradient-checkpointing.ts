import * as tf from '@tensorflow/tfjs';
import type { Model } from '@rankwise/models';
import type { Module } from '@rankwise/models';
import { Sequential } from '@rankwise/models';
import { Rng } from '@rankwise/models';
import { releaseDuringBackprop } from './release-backprop.js';

/**
 * Gradient checkpointing per transformer block (PyTorch's torch.utils.checkpoint, non-reentrant in effect): in the
 * forward pass a block keeps only its input; every activation inside it is freed at once. In the backward pass,
 * when the gradient reaches the block's output, the block is run again on the saved input under a fresh gradient
 * tape and back-propagated at once, giving the gradients of its input and of its trainable parameters. Peak memory
 * becomes the blocks' inputs plus one block's activations, for about one more forward pass of compute.
 *
 * tfjs side: the block is a `tf.customGrad` whose inputs are x and the block's trainable variables (a custom gradient
 * returns gradients for its explicit inputs only). Nothing inside a custom gradient's forward is recorded. The
 * recompute runs `engine.gradients` inside the outer backward pass, where the outer tape has already been filtered
 * (tfjs-core 4.x engine.ts: `gradients` keeps a filtered copy, and starting a new top-level tape replaces and, at its
 * end, nulls `state.activeTape`): the outer `activeTape` is put back afterwards so the outer pass can free its saved
 * tensors. Random streams (dropout) are rewound to where the forward pass found them, so the recompute draws the same
 * masks, then set forward again. The gradients equal the uncheckpointed ones (test/core/gradient-checkpointing.test.ts).
 */

interface EngineState {
  activeTape?: unknown[] | null;
  gradientDepth?: number;
}

const engineState = (): EngineState => (tf.engine() as unknown as { state: EngineState }).state;

/** The transformer block stack of each architecture that has one. */
const BLOCK_STACKS: Record<string, string> = { llama: 'model.layers', gpt: 'blocks' };

/** Architectures whose blocks can be checkpointed. */
export const CHECKPOINTABLE_ARCHITECTURES = Object.keys(BLOCK_STACKS);

/**
 * Turns gradient checkpointing of every transformer block on or off. Returns the number of blocks. Throws for a
 * model without a block stack (only llama and gpt have one).
 */
export function setGradientCheckpointing(model: Model, on: boolean): number {
  const path = BLOCK_STACKS[model.architecture];
  if (path === undefined) {
    throw new Error(
      `gradient checkpointing needs transformer blocks; architecture "${model.architecture}" has none (allowed: ${CHECKPOINTABLE_ARCHITECTURES.join(', ')})`,
    );
  }
  const stack = model.getSubmodule(path);
  if (!(stack instanceof Sequential)) throw new Error(`${model.architecture}: "${path}" is not a block stack`);
  stack.runChild = on ? checkpointedForward : null;
  return stack.length;
}

/**
 * block.forward(x), keeping only x for the backward pass (see above). Outside a first-order gradient tape it is
 * plain block.forward(x).
 */
export function checkpointedForward(block: Module, x: tf.Tensor): tf.Tensor {
  const state = engineState();
  if (state.gradientDepth !== 1 || !Array.isArray(state.activeTape)) return block.forward(x);
  const variables = block.trainableParameters();
  const rngs = rngsOf(block);
  const run = tf.customGrad(((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const input = args[0] as tf.Tensor;
    const streams = rngs.map((r) => r.state32);
    const value = block.forward(input); // [B, T, C]
    save([input]);
    return { value, gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => recompute(block, saved[0], variables, rngs, streams, dy) };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return run(x, ...variables);
}

/** Runs the block again from its saved input and returns [dx, d(each variable)]. */
function recompute(block: Module, x: tf.Tensor, variables: tf.Variable[], rngs: Rng[], streams: number[], dy: tf.Tensor): tf.Tensor[] {
  const state = engineState();
  const outerTape = state.activeTape;
  const after = rngs.map((r) => r.state32);
  rngs.forEach((r, i) => (r.state32 = streams[i]));
  // The inner pass frees the gradients it is handed: give it its own handle on dy (the data is shared).
  const upstream = dy.clone();
  try {
    const xs = [x, ...variables];
    const { value, grads } = tf.engine().gradients(
      () => {
        const y = block.forward(x);
        releaseDuringBackprop();
        return y;
      },
      xs,
      upstream,
      true,
    );
    value.dispose();
    return grads.map((g, i) => g ?? tf.zerosLike(xs[i]));
  } finally {
    upstream.dispose();
    state.activeTape = outerTape;
    rngs.forEach((r, i) => (r.state32 = after[i]));
  }
}

/** Every random stream a block's forward can draw from: Rng fields of its modules, and of objects in their Maps (LoRA adapters). */
function rngsOf(block: Module): Rng[] {
  const found = new Set<Rng>();
  const visit = (value: unknown, depth: number): void => {
    if (value instanceof Rng) found.add(value);
    else if (value instanceof Map && depth < 2) for (const v of value.values()) visit(v, depth + 1);
    else if (depth > 0 && depth < 2 && typeof value === 'object' && value !== null && !(value instanceof tf.Tensor)) {
      for (const v of Object.values(value)) visit(v, depth + 1);
    }
  };
  for (const [, module] of block.namedModules()) for (const value of Object.values(module)) visit(value, 0);
  return [...found];
}
