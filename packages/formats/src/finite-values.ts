/** Non-finite values (NaN, ±Infinity) in tensor data: found and named, so nothing NaN is loaded or saved silently. */

/** The first non-finite value of `data`: its index and value, or null when all are finite. */
export function firstNonFinite(data: ArrayLike<number>): { index: number; value: number; count: number } | null {
  let first = -1;
  let count = 0;
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      if (first < 0) first = i;
      count++;
    }
  }
  return first < 0 ? null : { index: first, value: data[first], count };
}

/** Throws `<where>: tensor "<name>" holds NaN at index i (n of m values are not finite)` when needed. */
export function assertFiniteTensor(where: string, name: string, data: ArrayLike<number>, action = ''): void {
  const bad = firstNonFinite(data);
  if (!bad) return;
  throw new Error(
    `${where}: tensor "${name}" holds ${bad.value} at index ${bad.index} (${bad.count} of ${data.length} values are not finite)${action ? `; ${action}` : ''}`,
  );
}
