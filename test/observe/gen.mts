/**
 * Regenerates test/observe/fixtures/sample.tfevents (the fixture records written as the TensorBoard observer writes
 * them) and sample.decoded.jsonl (what the independent Python reader decodes from it):
 *   node --conditions=source --import tsx test/observe/gen.mts && \
 *   /usr/bin/python3 packages/observe/scripts/read_tfevents.py test/observe/fixtures/sample.tfevents > test/observe/fixtures/sample.decoded.jsonl
 */
import { copyFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFixtureEvents } from './events-fixture.js';

const file = await writeFixtureEvents(await mkdtemp(join(tmpdir(), 'rankwise-tfevents-')));
await copyFile(file, new URL('./fixtures/sample.tfevents', import.meta.url));
console.log('wrote test/observe/fixtures/sample.tfevents');
