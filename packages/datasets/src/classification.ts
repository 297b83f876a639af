import { requireInteger } from './validate.js';

/** Classification data as flat typed arrays (the core turns them into tensors). */
export interface ClassificationData {
  /** e.g. 'digits/train/rotate90'. */
  name: string;
  /** [n, features] row-major. */
  x: Float32Array;
  /** [n] labels in [0, classes). */
  y: Int32Array;
  n: number;
  features: number;
  classes: number;
}

/** How many examples of each class: [classes]. */
export function classCounts(data: ClassificationData): Int32Array {
  const counts = new Int32Array(data.classes);
  for (let i = 0; i < data.n; i++) counts[data.y[i]]++;
  return counts;
}

/** Throws unless the arrays agree with n, features and classes. */
export function checkClassificationData(data: ClassificationData): void {
  const { n, features, classes } = data;
  requireInteger('data.n', n, 1);
  requireInteger('data.features', features, 1);
  requireInteger('data.classes', classes, 1);
  if (!(data.x instanceof Float32Array) || data.x.length !== n * features) {
    throw new RangeError(`data.x must be a Float32Array of n·features = ${n * features} values; got ${describeArray(data.x)}`);
  }
  if (!(data.y instanceof Int32Array) || data.y.length !== n) {
    throw new RangeError(`data.y must be an Int32Array of n = ${n} labels; got ${describeArray(data.y)}`);
  }
  for (let i = 0; i < n; i++) {
    if (data.y[i] < 0 || data.y[i] >= classes) {
      throw new RangeError(`data.y[${i}] = ${data.y[i]} is outside [0, ${classes})`);
    }
  }
}

function describeArray(value: unknown): string {
  if (ArrayBuffer.isView(value)) return `${value.constructor.name} of ${(value as Float32Array).length} values`;
  return typeof value;
}
