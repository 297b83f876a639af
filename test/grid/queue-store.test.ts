import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import type { RunSummary } from '@rankwise/core';
import { parseRedisUrl } from '../../packages/grid/src/queue/redis-url.js';
import { stallSettings } from '../../packages/grid/src/queue/settings.js';
import { materializeCell, packRunDir, publishCheckpoint, verifyCheckpoint } from '../../packages/grid/src/queue/store.js';

const temp = () => mkdtempSync(join(tmpdir(), 'rankwise-store-'));

function checkpointDir(): string {
  const dir = temp();
  writeFileSync(join(dir, 'config.json'), '{"architecture":"mlp"}\n');
  writeFileSync(join(dir, 'model.safetensors'), Buffer.from(Array.from({ length: 4096 }, (_, i) => i % 251)));
  return dir;
}

describe('--queue addresses', () => {
  test('redis://host[:port][/db] and rediss://, password hidden in messages', () => {
    expect(parseRedisUrl('redis://127.0.0.1:6380/2')).toMatchObject({ host: '127.0.0.1', port: 6380, db: 2, display: 'redis://127.0.0.1:6380/2' });
    expect(parseRedisUrl('redis://queue.lan')).toMatchObject({ port: 6379, db: 0 });
    expect(parseRedisUrl('rediss://ops:s3cret@queue.lan:6390').display).toBe('rediss://ops@queue.lan:6390');
  });

  test('anything else is refused, naming the flag and what is allowed', () => {
    expect(() => parseRedisUrl('localhost:6379')).toThrow(/--queue: found scheme "localhost:" in "localhost:6379"; allowed: redis:\/\/host\[:port\]\[\/db\]/);
    expect(() => parseRedisUrl('http://x:1')).toThrow(/found scheme "http:"/);
    expect(() => parseRedisUrl('redis://x:1/queue')).toThrow(/found database "queue" in "redis:\/\/x:1\/queue"; allowed: a database number/);
    expect(() => parseRedisUrl('not a url')).toThrow(/--queue: found "not a url", not a URL/);
  });

  test('lock and stall timings come from the environment, checked', () => {
    expect(stallSettings({})).toEqual({ lockDurationMs: 30_000, stalledIntervalMs: 30_000, maxStalledCount: 3 });
    expect(stallSettings({ RANKWISE_QUEUE_LOCK_MS: '2000', RANKWISE_QUEUE_STALLED_MS: '500' })).toMatchObject({ lockDurationMs: 2000, stalledIntervalMs: 500 });
    expect(() => stallSettings({ RANKWISE_QUEUE_LOCK_MS: '10' })).toThrow('RANKWISE_QUEUE_LOCK_MS: found "10", allowed: an integer ≥ 500');
  });
});

describe('shared store', () => {
  test('a published base is named by its content, published once, and checked byte for byte before use', async () => {
    const store = temp();
    const source = checkpointDir();
    const published = await publishCheckpoint(store, source);
    expect(published.dir).toBe(`bases/${published.id}`);
    expect(published.files.map((f) => [f.path, f.size])).toEqual([
      ['config.json', 23],
      ['model.safetensors', 4096],
    ]);
    expect(await publishCheckpoint(store, source)).toEqual(published); // same bytes, same id: nothing copied again
    expect(await verifyCheckpoint(store, published)).toBe(join(store, published.dir));
    expect(readFileSync(join(store, published.dir, 'model.safetensors'))).toEqual(readFileSync(join(source, 'model.safetensors')));

    // A worker whose copy differs (same size, one byte changed) refuses it, naming the file and both hashes.
    const copy = join(store, published.dir, 'model.safetensors');
    const bytes = readFileSync(copy);
    bytes[100] ^= 1;
    writeFileSync(copy, bytes);
    await expect(verifyCheckpoint(store, published)).rejects.toThrow(
      /model\.safetensors: sha256 [0-9a-f]{16}…, the coordinator published [0-9a-f]{16}… \(a stale or partial copy/,
    );
    // …and a machine without the share says where it looked.
    await expect(verifyCheckpoint(temp(), published)).rejects.toThrow(
      /config\.json, model\.safetensors not found; is the shared store mounted at .* \(rankwise worker --store <mount point>\)/,
    );
  });

  test('a cell result round-trips: small files inline, large ones through the store, each checked; summary.json written last', async () => {
    const store = temp();
    const run = temp();
    mkdirSync(join(run, 'adapter'));
    writeFileSync(join(run, 'metrics.jsonl'), '{"step":1}\n');
    writeFileSync(join(run, 'adapter', 'adapter_model.safetensors'), Buffer.alloc(3000, 7));
    writeFileSync(join(run, 'summary.json'), '{}');
    const files = await packRunDir(run, store, { inlineFileBytes: 1024, inlineTotalBytes: 4096 });
    expect(files.map((f) => [f.path, f.base64 !== undefined, f.stored !== undefined])).toEqual([
      ['adapter/adapter_model.safetensors', false, true],
      ['metrics.jsonl', true, false],
    ]);
    const summary = { status: 'completed', runDir: run, pipeline: 'g.r1' } as unknown as RunSummary;
    const cell = join(temp(), 'cells', 'r1-abc');
    const local = await materializeCell(cell, files, summary, store);
    expect(local.runDir).toBe(cell);
    expect(readFileSync(join(cell, 'adapter', 'adapter_model.safetensors'))).toEqual(Buffer.alloc(3000, 7));
    expect(readFileSync(join(cell, 'metrics.jsonl'), 'utf8')).toBe('{"step":1}\n');
    expect(JSON.parse(readFileSync(join(cell, 'summary.json'), 'utf8'))).toMatchObject({ status: 'completed', runDir: cell });

    // A damaged stored output or a path leaving the cell directory is refused.
    writeFileSync(join(store, files[0].stored!), Buffer.alloc(3000, 8));
    await expect(materializeCell(cell, files, summary, store)).rejects.toThrow(/adapter\/adapter_model\.safetensors has sha256 .* the worker sent/);
    await expect(materializeCell(cell, [{ ...files[1], path: '../escape' }], summary, store)).rejects.toThrow('cell result: unsafe file path "../escape"');
  });
});
