/** Argument checks whose errors say what was found and what is allowed. */

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) {
    return String(value);
  }
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  return `a value of type ${typeof value}`;
}

/** An integer ≥ `min` (and ≤ `max` when given). */
export function requireInteger(name: string, value: unknown, min: number, max?: number): number {
  const range = max === undefined ? `≥ ${min}` : `in [${min}, ${max}]`;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || (max !== undefined && value > max)) {
    throw new RangeError(`${name} must be an integer ${range}; got ${show(value)}`);
  }
  return value;
}

/** A seed: any safe integer (used modulo 2^32). */
export function requireSeed(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new RangeError(`${name} must be a safe integer; got ${show(value)}`);
  }
  return value;
}

/** A fraction strictly between 0 and 1. */
export function requireFraction(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value >= 1) {
    throw new RangeError(`${name} must be a number in the open interval (0, 1); got ${show(value)}`);
  }
  return value;
}

/** One of a fixed list of strings. */
export function requireOneOf<T extends string>(name: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new RangeError(`${name} must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}; got ${show(value)}`);
  }
  return value as T;
}

/** An Int32Array (token ids). */
export function requireInt32Array(name: string, value: unknown): Int32Array {
  if (!(value instanceof Int32Array)) {
    throw new TypeError(`${name} must be an Int32Array; got ${show(value)}`);
  }
  return value;
}
