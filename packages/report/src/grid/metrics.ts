/** How a metric is shown: its label, unit, the factor from stored value to shown value, and a d3 number format. */
export interface MetricInfo {
  name: string;
  label: string;
  /** Unit of the shown value, e.g. "%" or "bits/char"; null when unitless. */
  unit: string | null;
  /** Shown value = stored value · factor (accuracy 0.942 is shown as 94.2 %). */
  factor: number;
  /** d3-format specifier for legends, matching `formatMetric`. */
  format: string;
  /** d3-format specifier for axis ticks (fewer decimals where ticks are round). */
  axisFormat: string;
  /** Fixed decimals for `formatMetric`; null: 4 significant digits. */
  decimals: number | null;
}

const KNOWN: Record<string, Omit<MetricInfo, 'name'>> = {
  accuracy: { label: 'accuracy', unit: '%', factor: 100, format: '.1f', axisFormat: '~f', decimals: 1 },
  loss: { label: 'loss', unit: 'nats', factor: 1, format: '.3f', axisFormat: '~f', decimals: 3 },
  bitsPerChar: { label: 'bits per character', unit: 'bits/char', factor: 1, format: '.3f', axisFormat: '~f', decimals: 3 },
  perplexity: { label: 'perplexity', unit: null, factor: 1, format: '.2f', axisFormat: '~f', decimals: 2 },
};

export function metricInfo(name: string): MetricInfo {
  const known = KNOWN[name];
  if (known) return { name, ...known };
  return { name, label: name, unit: null, factor: 1, format: '.4~g', axisFormat: '~g', decimals: null };
}

/** "accuracy (%)", "bits per character (bits/char)", "perplexity". */
export function metricTitle(info: MetricInfo): string {
  return info.unit ? `${info.label} (${info.unit})` : info.label;
}

export function directionText(higherIsBetter: boolean): string {
  return higherIsBetter ? 'higher is better' : 'lower is better';
}

/** The stored value as shown (e.g. accuracy 0.9421 → 94.21). */
export function shownValue(info: MetricInfo, value: number): number {
  return value * info.factor;
}

/** The shown value as text, without unit: "94.2", "2.113". */
export function formatMetric(info: MetricInfo, value: number): string {
  const x = shownValue(info, value);
  if (info.decimals !== null) return x.toFixed(info.decimals);
  return formatSignificant(x, 4);
}

export function formatSignificant(x: number, digits: number): string {
  if (x === 0) return '0';
  if (!Number.isFinite(x)) return String(x);
  const abs = Math.abs(x);
  if (abs >= 1e6 || abs < 1e-4) return x.toExponential(digits - 1);
  return Number(x.toPrecision(digits)).toString();
}

/** 1234567 → "1,234,567". */
export function formatInteger(x: number): string {
  return Math.round(x).toLocaleString('en-US');
}

/** 7296 → "7.3k", 1234567 → "1.23M", 512 → "512". */
export function formatCompact(x: number): string {
  const abs = Math.abs(x);
  if (abs >= 1e9) return `${trim((x / 1e9).toPrecision(3))}G`;
  if (abs >= 1e6) return `${trim((x / 1e6).toPrecision(3))}M`;
  if (abs >= 1e3) return `${trim((x / 1e3).toPrecision(3))}k`;
  return String(Math.round(x));
}

/** Percent with enough decimals for small shares: 100 → "100 %", 6.17 → "6.17 %", 0.0123 → "0.0123 %". */
export function formatPercent(x: number): string {
  if (x >= 99.995) return '100 %';
  if (x === 0) return '0 %';
  if (x >= 10) return `${x.toFixed(1)} %`;
  return `${trim(x.toPrecision(3))} %`;
}

function trim(s: string): string {
  return s.includes('.') && !s.includes('e') ? s.replace(/\.?0+$/, '') : s;
}
