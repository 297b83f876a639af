import * as tf from '@tensorflow/tfjs';
import type { Rng } from './random.js';

/** Values drawn in JavaScript from our seeded Rng, so every backend starts from the same numbers. */
export function uniform(shape: number[], bound: number, rng: Rng): tf.Tensor {
  return tf.tensor(uniformValues(shape, bound, rng), shape, 'float32');
}

/** The values `uniform` draws, as a plain array (a weight quantized as it is built never becomes a tensor). */
export function uniformValues(shape: number[], bound: number, rng: Rng): Float32Array {
  const size = shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(size);
  for (let i = 0; i < size; i++) values[i] = rng.uniform(-bound, bound);
  return values;
}

export function normal(shape: number[], std: number, rng: Rng): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(size);
  for (let i = 0; i < size; i++) values[i] = rng.normal() * std;
  return tf.tensor(values, shape, 'float32');
}

/**
 * PyTorch's `kaiming_uniform_(w, a=sqrt(5))`, the init of nn.Linear weights and of PEFT's lora_A:
 * gain = sqrt(2 / (1 + a²)) = sqrt(1/3), bound = gain·sqrt(3 / fanIn) = 1 / sqrt(fanIn).
 */
export function kaimingUniform(shape: number[], fanIn: number, rng: Rng): tf.Tensor {
  return uniform(shape, 1 / Math.sqrt(fanIn), rng);
}
