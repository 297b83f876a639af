import { normal } from '@rankwise/models';
import type { LoraInitMethod } from './types.js';

/** PEFT's `init_lora_weights="gaussian"`: A ~ N(0, (1/r)²) (nn.init.normal_(lora_A, std=1/r)), B = 0. */
export const gaussianInit = {
  name: 'gaussian',
  label: 'gaussian',
  peftValue: 'gaussian',
  description: 'A ~ N(0, 1/r²), B = 0',
  linearOnly: true,
  freshA: (inFeatures, r, rng) => normal([inFeatures, r], 1 / r, rng.fork('lora_A')),
} as const satisfies LoraInitMethod;
