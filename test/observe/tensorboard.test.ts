import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { maskedCrc32c, tfRecord } from '@rankwise/observe';
import { FIXTURE_END_S, FIXTURE_RECORDS, FIXTURE_SAMPLES, FIXTURE_START_MS, writeFixtureEvents } from './events-fixture.js';

const READER = 'packages/observe/scripts/read_tfevents.py';
const FIXTURES = 'test/observe/fixtures';

interface DecodedValue {
  tag: string;
  simple_value?: number;
  text?: string[];
  dtype?: number;
  shape?: number[];
  plugin?: string;
  data_class?: number;
}
interface DecodedEvent {
  wall_time: number;
  step: number;
  file_version?: string;
  values?: DecodedValue[];
}

/** Whether /usr/bin/python3 can import google.protobuf (Debian python3-protobuf). */
function pythonProtobuf(): boolean {
  return spawnSync('/usr/bin/python3', ['-c', 'import google.protobuf'], { stdio: 'ignore' }).status === 0;
}
if (!pythonProtobuf() && process.env.RANKWISE_REQUIRE_PYTHON_PROTOBUF === '1')
  throw new Error('RANKWISE_REQUIRE_PYTHON_PROTOBUF=1 but /usr/bin/python3 cannot import google.protobuf (apt-get install python3-protobuf)');
const readEvents = (file: string): DecodedEvent[] =>
  execFileSync('/usr/bin/python3', [READER, file], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as DecodedEvent);
const committedDecoding = async (): Promise<DecodedEvent[]> =>
  (await readFile(join(FIXTURES, 'sample.decoded.jsonl'), 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as DecodedEvent);

describe('TensorBoard event files', () => {
  test('masked CRC-32C: the standard check value, and TFRecord framing around it', () => {
    // CRC-32C("123456789") = 0xe3069283 (RFC 3720 check value); mask = rotr15 + 0xa282ead8, computed by hand here
    const crc = 0xe3069283;
    const masked = ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;
    expect(maskedCrc32c(new TextEncoder().encode('123456789'))).toBe(masked);
    const record = tfRecord(new Uint8Array([1, 2, 3]));
    const view = new DataView(record.buffer);
    expect(record.length).toBe(8 + 4 + 3 + 4);
    expect(view.getBigUint64(0, true)).toBe(3n);
    expect(view.getUint32(8, true)).toBe(maskedCrc32c(record.subarray(0, 8)));
    expect(view.getUint32(15, true)).toBe(maskedCrc32c(new Uint8Array([1, 2, 3])));
  });

  test('the writer produces the committed event file byte for byte', async () => {
    const file = await writeFixtureEvents(await mkdtemp(join(tmpdir(), 'rankwise-tb-')));
    expect(file).toMatch(/events\.out\.tfevents\.1767323045\.[^/]+\.\d+\.\d+$/);
    expect(Buffer.compare(await readFile(file), await readFile(join(FIXTURES, 'sample.tfevents')))).toBe(0);
  });

  test('the independent reader decoded every value the records hold (committed decoding: steps, wall times, float32 values, text)', async () => {
    const events = await committedDecoding();
    expect(events[0]).toEqual({ wall_time: FIXTURE_START_MS / 1000, step: 0, file_version: 'brain.Event:2' });
    const scalars = new Map<string, Array<{ step: number; wall: number; value: number }>>();
    const texts = new Map<string, { step: number; wall: number; text: DecodedValue }>();
    for (const e of events.slice(1)) {
      for (const v of e.values ?? []) {
        if (v.simple_value !== undefined) scalars.set(v.tag, [...(scalars.get(v.tag) ?? []), { step: e.step, wall: e.wall_time, value: v.simple_value }]);
        else texts.set(v.tag, { step: e.step, wall: e.wall_time, text: v });
      }
    }
    const f = Math.fround;
    const wall = (i: number) => Date.parse(FIXTURE_RECORDS[i].time as string) / 1000;
    // train stage 4 at steps 5 and 10; the second train stage (index 6) continues at global step 10 + 5
    expect(scalars.get('train/loss')).toEqual([
      { step: 5, wall: wall(1), value: 2.5 },
      { step: 10, wall: wall(2), value: 2.25 },
      { step: 15, wall: wall(5), value: 2 },
    ]);
    expect(scalars.get('train/learning_rate')!.map((s) => s.value)).toEqual([f(0.0006), f(0.0012), f(0.001)]);
    expect(scalars.get('train/grad_norm')!.map((s) => s.value)).toEqual([0.75, 0.625, 0.5]);
    expect(scalars.get('train/steps_per_sec')!.map((s) => s.value)).toEqual([12.5, 13.25, 11]);
    expect(scalars.get('eval/loss')).toEqual([{ step: 10, wall: wall(3), value: 2.3125 }]);
    expect(scalars.get('eval/bitsPerChar')).toEqual([{ step: 10, wall: wall(3), value: f(3.33) }]);
    for (const [i, name, step] of [
      [0, 'zero-shot', 0],
      [6, 'after', 15],
    ] as const) {
      for (const metric of ['loss', 'bitsPerChar', 'accuracy']) {
        expect(scalars.get(`evaluate/${name}/${metric}`)).toEqual([{ step, wall: wall(i), value: f(FIXTURE_RECORDS[i][metric] as number) }]);
      }
    }
    expect(scalars.size).toBe(4 + 2 + 6); // nothing else (index, elapsedMs, durationMs are not plotted)
    for (const { label, samples } of FIXTURE_SAMPLES) {
      samples.forEach((sample, i) => {
        const got = texts.get(`samples/${label}/${i}`)!;
        expect(got.text).toMatchObject({ text: [sample], dtype: 7, shape: [], plugin: 'text', data_class: 2 });
        expect(got.step).toBe(label === 'after' ? 15 : 0);
        expect(got.wall).toBe(FIXTURE_END_S);
      });
    }
    expect(texts.size).toBe(3);
  });

  test.skipIf(!pythonProtobuf())('python3-protobuf reads a freshly written file to the committed decoding, and rejects a corrupted one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rankwise-tb-'));
    const file = await writeFixtureEvents(dir);
    expect(readEvents(file)).toEqual(await committedDecoding());
    const bytes = await readFile(file);
    bytes[40] ^= 0xff;
    await writeFile(join(dir, 'corrupt'), bytes);
    expect(() => execFileSync('/usr/bin/python3', [READER, join(dir, 'corrupt')], { stdio: 'pipe' })).toThrow(/CRC mismatch/);
  });
});
