/** accuracy as a percentage, counts as integers, everything else with 4 decimals. */
export function formatMetric(name: string, value: number): string {
  if (name === 'accuracy' || name === 'coverage') return `${(100 * value).toFixed(2)}%`;
  if (Number.isInteger(value)) return value.toLocaleString('en-US');
  return value.toFixed(4);
}
