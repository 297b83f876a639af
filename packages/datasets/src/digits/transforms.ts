/**
 * Image transforms that turn MNIST into shifted tasks (for continual-learning / LoRA-adapter
 * benchmarks). All work on square, row-major images; (r, c) is (row from the top, column from the left).
 *
 * - 'rotate90':  90° counter-clockwise: pixel (r, c) moves to (side-1-c, r) (the top-right corner goes to the top-left).
 * - 'rotate180': pixel (r, c) moves to (side-1-r, side-1-c).
 * - 'rotate270': 90° clockwise (270° counter-clockwise): pixel (r, c) moves to (c, side-1-r).
 * - 'flip-horizontal': mirror left↔right: (r, c) moves to (r, side-1-c).
 * - 'flip-vertical':   mirror top↔bottom: (r, c) moves to (side-1-r, c).
 * - 'invert': every value v becomes 1 - v.
 * - 'permute-pixels': a fixed permutation of pixel positions (splitmix32, seed 0, Fisher–Yates):
 *   output[i] = input[permutation[i]]; the same for every image and every run.
 */
import { SplitMix32 } from '../random.js';
import { requireInteger, requireOneOf } from '../validate.js';

export type DigitTransform = 'none' | 'rotate90' | 'rotate180' | 'rotate270' | 'flip-horizontal' | 'flip-vertical' | 'invert' | 'permute-pixels';

export const DIGIT_TRANSFORMS: readonly DigitTransform[] = Object.freeze([
  'none',
  'rotate90',
  'rotate180',
  'rotate270',
  'flip-horizontal',
  'flip-vertical',
  'invert',
  'permute-pixels',
] as const);

/** The seed of the fixed 'permute-pixels' permutation. */
export const PERMUTE_PIXELS_SEED = 0;

const permutations = new Map<number, Int32Array>();

/** The fixed 'permute-pixels' permutation for images of `pixels` values (cached). */
export function pixelPermutation(pixels: number): Int32Array {
  let perm = permutations.get(pixels);
  if (perm === undefined) {
    perm = new SplitMix32(PERMUTE_PIXELS_SEED).permutation(pixels);
    permutations.set(pixels, perm);
  }
  return perm;
}

/**
 * For a geometric transform, `source[i]` = the input index whose value lands at output index i.
 * Returns null for transforms that do not move pixels ('none', 'invert').
 */
function sourceIndices(transform: DigitTransform, side: number): Int32Array | null {
  if (transform === 'none' || transform === 'invert') return null;
  if (transform === 'permute-pixels') return pixelPermutation(side * side);
  const source = new Int32Array(side * side);
  const last = side - 1;
  for (let r = 0; r < side; r++) {
    for (let c = 0; c < side; c++) {
      let to: number;
      if (transform === 'rotate90') to = (last - c) * side + r;
      else if (transform === 'rotate180') to = (last - r) * side + (last - c);
      else if (transform === 'rotate270') to = c * side + (last - r);
      else if (transform === 'flip-horizontal') to = r * side + (last - c);
      else to = (last - r) * side + c; // flip-vertical
      source[to] = r * side + c;
    }
  }
  return source;
}

/**
 * Applies `transform` to `count` square images of `side`×`side` stored back to back in `images`;
 * returns new memory (the input is not modified).
 */
export function transformImages(images: Float32Array, side: number, transform: DigitTransform): Float32Array {
  requireOneOf('transform', transform, DIGIT_TRANSFORMS);
  requireInteger('side', side, 1);
  const size = side * side;
  if (images.length % size !== 0) {
    throw new RangeError(`images has ${images.length} values, not a multiple of side² = ${size}`);
  }
  const out = new Float32Array(images.length);
  if (transform === 'invert') {
    for (let i = 0; i < images.length; i++) out[i] = 1 - images[i];
    return out;
  }
  const source = sourceIndices(transform, side);
  if (source === null) {
    out.set(images);
    return out;
  }
  for (let base = 0; base < images.length; base += size) {
    for (let i = 0; i < size; i++) out[base + i] = images[base + source[i]];
  }
  return out;
}
