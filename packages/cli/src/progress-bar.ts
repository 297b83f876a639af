import cliProgress from 'cli-progress';
import type { ProgressReporter, ProgressTask } from '@rankwise/core';
import { formatDuration, formatFields, formatSpeed, RateMeter } from '@rankwise/core/runs';

/** A live bar per training task on a terminal: step, loss, steps/s and ETA; log lines print above it. */
export class TerminalProgress implements ProgressReporter {
  private readonly bars = new cliProgress.MultiBar(
    {
      format: '{label} [{bar}] {value}/{total} {fields} {speed} ETA {remaining}',
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
    const meter = new RateMeter(Date.now());
    const bar = this.bars.create(total, 0, { label, fields: '', speed: formatSpeed(0), remaining: '?' }); // {eta} is cli-progress's own
    this.active++;
    let stopped = false;
    return {
      update: (done, fields = {}) => {
        const { stepsPerSec, etaSec } = meter.update(done, total);
        bar.update(done, { fields: formatFields(fields), speed: formatSpeed(stepsPerSec), remaining: formatDuration(etaSec) });
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
