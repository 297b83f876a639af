/** `@rankwise/core/runs`: run folders, locks, resume and progress lines: what the CLI, the grid and observers share. */
export { LineProgress, SilentProgress, formatDuration, formatFields } from './progress/reporter.js';
export { RateMeter, formatSpeed } from './progress/rate-meter.js';
export { formatMetric } from './progress/format-metric.js';
export {
  RunFolder,
  listRuns,
  observedStatus,
  finishActiveRunsSync,
  readSummary,
  type RunEntry,
  type ObservedStatus,
  type RecordedStatus,
} from './run/run-folder.js';
export { FileLock } from './run/lock.js';
export { ResumeError, resolveResumeTarget } from './run/open-run.js';
