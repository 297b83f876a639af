import { formatSpeed, RateMeter } from './rate-meter.js';

/** Numbers a training task reports at each update. */
export interface ProgressFields {
  loss?: number;
  lr?: number;
  [key: string]: number | undefined;
}

export interface ProgressTask {
  update(done: number, fields?: ProgressFields): void;
  stop(): void;
}

/** Where log lines and progress go: a bar on a terminal, periodic plain lines in CI, nothing in tests. */
export interface ProgressReporter {
  info(line: string): void;
  task(label: string, total: number): ProgressTask;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export function formatFields(fields: ProgressFields): string {
  return Object.entries(fields)
    .filter(([, v]) => v !== undefined && Number.isFinite(v))
    .map(([k, v]) => `${k} ${k === 'lr' ? (v as number).toExponential(2) : (v as number).toFixed(4)}`)
    .join('  ');
}

/**
 * Plain lines, at most one every `intervalMs` per task (plus the last): what CI logs and pipes get.
 * `step 200/1500  loss 0.4321  lr 3.00e-3  12.3 steps/s  ETA 1m45s` (speed and ETA over the last 30 s: RateMeter)
 */
export class LineProgress implements ProgressReporter {
  constructor(
    private readonly write: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
    private readonly intervalMs = 5000,
  ) {}

  info(line: string): void {
    this.write(line);
  }

  task(label: string, total: number): ProgressTask {
    const meter = new RateMeter(Date.now());
    let lastPrinted = 0;
    let last: { done: number; fields: ProgressFields; stepsPerSec: number; etaSec: number } = { done: 0, fields: {}, stepsPerSec: 0, etaSec: Infinity };
    const print = ({ done, fields, stepsPerSec, etaSec }: typeof last) => {
      this.write(`${label} step ${done}/${total}  ${formatFields(fields)}  ${formatSpeed(stepsPerSec)}  ETA ${formatDuration(etaSec)}`);
      lastPrinted = Date.now();
    };
    return {
      update: (done, fields = {}) => {
        last = { done, fields, ...meter.update(done, total) };
        if (Date.now() - lastPrinted >= this.intervalMs || done === total) print(last);
      },
      stop: () => {
        if (last.done > 0 && last.done !== total) print(last);
      },
    };
  }
}

/** Reports nothing (tests, library use that wants quiet). */
export class SilentProgress implements ProgressReporter {
  info(): void {}
  task(): ProgressTask {
    return { update() {}, stop() {} };
  }
}
