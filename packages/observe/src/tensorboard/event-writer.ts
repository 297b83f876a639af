import { appendFile, mkdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { eventBytes, type SummaryValue } from './event-proto.js';
import { tfRecord } from './tfrecord.js';

let fileCounter = 0;

/** `events.out.tfevents.<seconds>.<host>.<pid>.<n>`: the name TensorBoard looks for (one per writer). */
export function eventFileName(now = Date.now()): string {
  return `events.out.tfevents.${String(Math.floor(now / 1000)).padStart(10, '0')}.${hostname()}.${process.pid}.${fileCounter++}`;
}

/**
 * Appends TFRecord-framed `Event`s to one event file, in order (writes are queued, never interleaved). The first
 * record is the file version, as TensorFlow's own writer starts every file.
 */
export class EventFileWriter {
  private pending: Promise<void>;
  readonly file: string;

  constructor(dir: string, now = Date.now()) {
    this.file = join(dir, eventFileName(now));
    this.pending = mkdir(dir, { recursive: true }).then(() => undefined);
    this.append(eventBytes({ wallTime: now / 1000, step: 0, fileVersion: 'brain.Event:2' }));
  }

  /** A summary event with `values` at `step`, `wallTime` in seconds since the epoch. */
  write(step: number, wallTime: number, values: readonly SummaryValue[]): void {
    if (values.length > 0) this.append(eventBytes({ wallTime, step, values }));
  }

  private append(event: Uint8Array): void {
    const record = tfRecord(event);
    this.pending = this.pending.then(() => appendFile(this.file, record));
  }

  /** Resolves when every queued event is on disk (rejects with the first write error). */
  flush(): Promise<void> {
    return this.pending;
  }
}
