import type { SplitName } from '@rankwise/core/plugin';

/**
 * The side of a seeded split the record at `index` falls on (the same rule as core's `splitOf`, kept here so this
 * package needs nothing from core at run time): validation when a 32-bit hash of (seed, index) / 2^32 is below
 * `validationFraction`. Needs no look-ahead, so streams split as they are read.
 */
export function splitOf(index: number, validationFraction: number, seed: number): SplitName {
  let h = (Math.imul(seed >>> 0, 0x9e3779b1) ^ (index >>> 0) ^ Math.floor(index / 2 ** 32)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h = (h ^ (h >>> 16)) >>> 0;
  return h / 2 ** 32 < validationFraction ? 'validation' : 'train';
}
