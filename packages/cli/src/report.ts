import { relative } from 'node:path';
import type { RunSummary } from '@rankwise/core';
import { formatMetric } from '@rankwise/core/runs';

/** The end-of-run table: one line per evaluate stage. */
export function formatSummary(summary: RunSummary): string {
  const lines = [
    `${summary.status === 'completed' ? '✔' : '✖'} ${summary.pipeline} ${summary.status} in ${(summary.durationMs / 1000).toFixed(1)} s ` +
      `on ${summary.backend.name} → ${relative(process.cwd(), summary.runDir) || summary.runDir}`,
  ];
  if (summary.parameterReport) lines.push(`  ${summary.parameterReport}`);
  const metricNames = [...new Set(summary.evaluations.flatMap((e) => Object.keys(e.metrics)))];
  if (summary.evaluations.length > 0) {
    const rows = summary.evaluations.map((e) => [
      e.label ?? String(e.index),
      e.data,
      ...metricNames.map((m) => (m in e.metrics ? formatMetric(m, e.metrics[m]) : '')),
    ]);
    const header = ['stage', 'data', ...metricNames];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (cells: string[]) => `  ${cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')}`;
    lines.push(line(header), ...rows.map(line));
  }
  return lines.join('\n');
}
