/**
 * Splits `total` picks among classes in proportion to their sizes (largest-remainder method; ties go
 * to the lower class index). The quotas sum to `total` and never exceed a class's size.
 */
export function stratifiedQuotas(sizes: readonly number[], total: number): Int32Array {
  const all = sizes.reduce((a, b) => a + b, 0);
  if (total > all) throw new RangeError(`cannot pick ${total} of ${all} examples`);
  const quotas = new Int32Array(sizes.length);
  const remainders: { index: number; remainder: number }[] = [];
  let assigned = 0;
  sizes.forEach((size, index) => {
    const exact = all === 0 ? 0 : (total * size) / all;
    quotas[index] = Math.floor(exact);
    assigned += quotas[index];
    remainders.push({ index, remainder: exact - quotas[index] });
  });
  remainders.sort((a, b) => b.remainder - a.remainder || a.index - b.index);
  for (const { index } of remainders) {
    if (assigned === total) break;
    if (quotas[index] < sizes[index]) {
      quotas[index]++;
      assigned++;
    }
  }
  return quotas;
}
