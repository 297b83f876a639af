import cliProgress from 'cli-progress';
import { formatDuration, formatFields, rate, type ProgressReporter, type ProgressTask } from '@rankwise/core';

/** A live bar per training task on a terminal: step, loss, steps/s and ETA; log lines print above it. */
export class TerminalProgress implements ProgressReporter {
  private readonly bars = new cliProgress.MultiBar(
    {
      format: '{label} [{bar}] {value}/{total} {fields} {speed} steps/s ETA {remaining}',
      barsize: 24,
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: true,
      forceRedraw: false,
    },
    cliProgress.Presets.shades_classic,
  );
  private active = 0;

  info(line: string): void {
    if (this.active > 0) this.bars.log(`${line}\n`);
    else process.stdout.write(`${line}\n`);
  }

  task(label: string, total: number): ProgressTask {
    const startedAt = Date.now();
    const bar = this.bars.create(total, 0, { label, fields: '', speed: '0.0', remaining: '?' }); // {eta} is cli-progress's own
    this.active++;
    let stopped = false;
    return {
      update: (done, fields = {}) => {
        const { stepsPerSec, etaSec } = rate(done, total, startedAt);
        bar.update(done, { fields: formatFields(fields), speed: stepsPerSec.toFixed(1), remaining: formatDuration(etaSec) });
      },
      stop: () => {
        if (stopped) return;
        stopped = true;
        bar.stop();
        this.bars.remove(bar);
        this.active--;
        if (this.active === 0) this.bars.stop();
      },
    };
  }
}
