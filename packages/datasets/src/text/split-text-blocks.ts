/**
 * Train/validation split of a token stream by contiguous blocks, so that validation text is not
 * interleaved character by character with training text.
 */
import { ceilFraction } from '../ceil-fraction.js';
import { SplitMix32, deriveSeed } from '../random.js';
import { requireFraction, requireInt32Array, requireInteger, requireSeed } from '../validate.js';

export interface TextSplitOptions {
  /** In (0, 1): ⌈fraction·blocks⌉ blocks go to validation. */
  validationFraction: number;
  /** Default 10,000 tokens; the last block may be shorter. */
  blockSize?: number;
  seed: number;
}

export interface TextSplit {
  train: Int32Array;
  validation: Int32Array;
  trainBlocks: number;
  validationBlocks: number;
}

export const DEFAULT_BLOCK_SIZE = 10_000;

/** The sorted indices of the validation blocks (the seeded choice used by splitTextBlocks). */
function validationBlockIndices(blocks: number, validationBlocks: number, seed: number): Int32Array {
  const order = new SplitMix32(deriveSeed(seed, 'text/split-blocks')).permutation(blocks);
  return order.slice(0, validationBlocks).sort();
}

/**
 * Cuts `ids` into blocks of `blockSize` (the last may be shorter); a seeded choice of
 * ⌈validationFraction·blocks⌉ blocks forms `validation`, the rest `train`, each side keeping the
 * blocks' original order. Throws when either side would be empty.
 */
export function splitTextBlocks(ids: Int32Array, options: TextSplitOptions): TextSplit {
  requireInt32Array('ids', ids);
  const fraction = requireFraction('validationFraction', options.validationFraction);
  const blockSize = requireInteger('blockSize', options.blockSize ?? DEFAULT_BLOCK_SIZE, 1);
  const seed = requireSeed('seed', options.seed);
  const blocks = Math.ceil(ids.length / blockSize);
  if (ids.length < 2) {
    throw new RangeError(`cannot split ${ids.length} token(s) into train and validation: at least 2 are needed (the text is too short)`);
  }
  if (blocks < 2) {
    throw new RangeError(
      `cannot split ${ids.length} tokens into train and validation with blockSize ${blockSize}: that is ${blocks} block(s), at least 2 are needed; use a blockSize below ${ids.length}`,
    );
  }
  const validationBlocks = ceilFraction(fraction, blocks);
  if (validationBlocks >= blocks) {
    throw new RangeError(
      `validationFraction ${fraction} of ${blocks} blocks puts all ${blocks} in validation and leaves train empty; use a fraction ≤ ${(blocks - 1) / blocks} or a smaller blockSize`,
    );
  }
  const chosen = validationBlockIndices(blocks, validationBlocks, seed);
  const isValidation = new Uint8Array(blocks);
  for (const b of chosen) isValidation[b] = 1;
  const lastBlockSize = ids.length - (blocks - 1) * blockSize;
  const validationLength = Array.from(chosen).reduce((sum, b) => sum + (b === blocks - 1 ? lastBlockSize : blockSize), 0);
  const train = new Int32Array(ids.length - validationLength);
  const validation = new Int32Array(validationLength);
  let t = 0;
  let v = 0;
  for (let b = 0; b < blocks; b++) {
    const block = ids.subarray(b * blockSize, Math.min((b + 1) * blockSize, ids.length));
    if (isValidation[b]) {
      validation.set(block, v);
      v += block.length;
    } else {
      train.set(block, t);
      t += block.length;
    }
  }
  return { train, validation, trainBlocks: blocks - validationBlocks, validationBlocks };
}
