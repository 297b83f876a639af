import { pissaFactors } from '../init.js';
import { kaimingInit } from './kaiming.js';
import type { LoraInitMethod } from './types.js';

/**
 * PiSSA (Meng et al. 2024; PEFT `init_lora_weights="pissa"`): A, B from W's top-r singular triplets, the base keeps
 * the residual W − s·A·B (float64 SVD in ../init.ts). Until the layer reads W, A starts as kaiming's.
 */
export const pissaInit = {
  name: 'pissa',
  label: 'PiSSA',
  peftValue: 'pissa',
  description: 'top-r singular vectors of W, residual left in the base',
  linearOnly: true,
  freshA: kaimingInit.freshA,
  fromBase: pissaFactors,
} as const satisfies LoraInitMethod;
