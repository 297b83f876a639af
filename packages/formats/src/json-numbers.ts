/**
 * JSON.stringify replacer: non-finite numbers become the strings "NaN", "Infinity" and "-Infinity" (JSON has no
 * such numbers; the default writes them as null, which hides a diverged run).
 */
export function nonFiniteAsString(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? String(value) : value;
}
