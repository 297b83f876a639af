/**
 * Speed and ETA from the recent past, not from the start: a language model's first step can take four times its
 * later ones (allocations, buffer pools filling), and an average since the start would keep the ETA too long for
 * the whole run. The rate is measured over the updates of the last `windowMs` (at least the last two).
 */
export class RateMeter {
  private readonly samples: Array<{ at: number; done: number }> = [];

  constructor(
    startedAt: number,
    private readonly windowMs = 30_000,
  ) {
    this.samples.push({ at: startedAt, done: 0 });
  }

  /** Records that `done` steps are finished at `now` and returns the recent speed and the time left for `total`. */
  update(done: number, total: number, now = Date.now()): { stepsPerSec: number; etaSec: number } {
    this.samples.push({ at: now, done });
    while (this.samples.length > 2 && now - this.samples[1].at >= this.windowMs) this.samples.shift();
    const first = this.samples[0];
    const seconds = Math.max(now - first.at, 1) / 1000;
    const stepsPerSec = (done - first.done) / seconds;
    return { stepsPerSec, etaSec: stepsPerSec > 0 ? (total - done) / stepsPerSec : Infinity };
  }
}

/** `12.3 steps/s`, or for slow steps `4.5 s/step` (0.2 steps/s says little about a 4.5 s step). */
export function formatSpeed(stepsPerSec: number): string {
  if (!(stepsPerSec > 0) || !Number.isFinite(stepsPerSec)) return '? steps/s';
  return stepsPerSec >= 1 ? `${stepsPerSec.toFixed(1)} steps/s` : `${(1 / stepsPerSec).toFixed(1)} s/step`;
}
