/** ⌈fraction·n⌉, robust to float products like 0.1·30 = 3.0000000000000004 (→ 3, not 4). */
export function ceilFraction(fraction: number, n: number): number {
  return Math.ceil(fraction * n - 1e-9);
}
