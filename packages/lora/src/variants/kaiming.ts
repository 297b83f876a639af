import { kaimingUniform } from '@rankwise/models';
import type { LoraInitMethod } from './types.js';

/** PEFT's default (`init_lora_weights=True`): A Kaiming-uniform, B = 0, so a fresh adapter adds exact zeros. */
export const kaimingInit = {
  name: 'kaiming',
  label: 'kaiming',
  peftValue: true,
  description: 'A Kaiming-uniform, B = 0',
  linearOnly: false,
  freshA: (inFeatures, r, rng) => kaimingUniform([inFeatures, r], inFeatures, rng.fork('lora_A')),
} as const satisfies LoraInitMethod;
