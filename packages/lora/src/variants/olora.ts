import { oloraFactors } from '../init.js';
import { kaimingInit } from './kaiming.js';
import type { LoraInitMethod } from './types.js';

/**
 * OLoRA (Büyükakyüz 2024; PEFT `init_lora_weights="olora"`): A, B from a QR decomposition of W, the base keeps the
 * residual W − s·A·B (Householder QR with LAPACK's signs in ../init.ts). Until the layer reads W, A starts as kaiming's.
 */
export const oloraInit = {
  name: 'olora',
  label: 'OLoRA',
  peftValue: 'olora',
  description: 'QR of W, residual left in the base',
  linearOnly: true,
  freshA: kaimingInit.freshA,
  fromBase: oloraFactors,
} as const satisfies LoraInitMethod;
