import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';

/** A tensor as scripts/peft-reference/variants.py writes it (rankwise layout unless its key says "peft"). */
export interface RefTensor {
  shape: number[];
  data: number[];
}

/** One adapted Linear: its shape, LoRA settings, base weight and (rankwise-layout) factors. */
interface SiteRef {
  in: number;
  out: number;
  r: number;
  alpha: number;
  rslora: boolean;
  scaling: number;
  w: RefTensor;
  a: RefTensor;
  b: RefTensor;
}

export interface DoraRef extends SiteRef {
  bias: RefTensor;
  magnitude: RefTensor;
  x: RefTensor;
  g: RefTensor;
  initialMagnitude: RefTensor;
  y: RefTensor;
  merged: RefTensor;
  gradA: RefTensor;
  gradB: RefTensor;
  gradMagnitude: RefTensor;
}

export interface InitRef extends SiteRef {
  init: 'pissa' | 'olora';
  residual: RefTensor;
  delta: RefTensor;
}

export interface ConversionRef {
  init: 'pissa' | 'olora';
  in: number;
  out: number;
  r: number;
  alpha: number;
  rslora: boolean;
  w: RefTensor;
  a0: RefTensor;
  b0: RefTensor;
  residual: RefTensor;
  a: RefTensor;
  b: RefTensor;
  peftLoraA: RefTensor;
  peftLoraB: RefTensor;
  peftR: number;
  peftAlpha: number;
  tunedWeight: RefTensor;
}

export interface LoraPlusRef {
  in: number;
  out: number;
  r: number;
  alpha: number;
  lr: number;
  ratio: number;
  steps: number;
  w: RefTensor;
  aStart: RefTensor;
  bStart: RefTensor;
  x: RefTensor;
  target: RefTensor;
  a: RefTensor;
  b: RefTensor;
  losses: number[];
}

export interface VariantsReference {
  dora: DoraRef[];
  init: InitRef[];
  conversion: ConversionRef[];
  loraplus: LoraPlusRef;
}

let cached: VariantsReference | null = null;

/** test/fixtures/variants/peft-reference.json (committed output of scripts/peft-reference/variants.py). */
export function variantsReference(): VariantsReference {
  cached ??= JSON.parse(readFileSync(new URL('../fixtures/variants/peft-reference.json', import.meta.url), 'utf8')) as VariantsReference;
  return cached;
}

export function refTensor(t: RefTensor): tf.Tensor {
  return tf.tensor(t.data, t.shape, 'float32');
}

export function refValues(t: RefTensor): Float64Array {
  return Float64Array.from(t.data);
}
