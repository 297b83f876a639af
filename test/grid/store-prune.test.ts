import { existsSync, mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parseAge, pruneStore } from '@rankwise/grid';
import { runCli } from '../helpers/cli.js';

const DAY = 86_400_000;
const NOW = Date.parse('2026-12-05T12:00:00Z');

/** A store with entries of known ages (days before NOW) and sizes. */
function store(): string {
  const root = mkdtempSync(join(tmpdir(), 'rankwise-store-'));
  const put = (path: string, bytes: number, ageDays: number) => {
    const full = join(root, path);
    mkdirSync(join(full, '..'), { recursive: true });
    writeFileSync(full, Buffer.alloc(bytes, 1));
    const t = new Date(NOW - ageDays * DAY);
    // the file and every folder above it inside the store (a folder's mtime changes when an entry is added)
    for (let at = full; at !== root; at = join(at, '..')) utimesSync(at, t, t);
  };
  put('cells/aaaaaaaaaaaaaaaa/checkpoints/train-3/step-20/state.safetensors', 3000, 10); // an attempt that never came back
  put('cells/bbbbbbbbbbbbbbbb/summary.json', 10, 1); // a cell running now
  put('outputs/1111', 5000, 9);
  put('outputs/2222', 7000, 2);
  put('outputs/3333.partial-12-ab', 100, 0.1); // 2.4 h: a temp copy of an interrupted pack
  put('bases/cccc/model.safetensors', 9000, 30);
  put('notes.txt', 5, 100); // not ours: never touched
  return root;
}

describe('rankwise store prune', () => {
  test('removes old cell folders, outputs and temp copies; bases only when asked; young entries stay', async () => {
    const root = store();
    const dry = await pruneStore(root, { olderThanMs: 7 * DAY, dryRun: true, now: NOW });
    expect(dry.map((p) => [p.path, p.kind, p.bytes])).toEqual([
      ['cells/aaaaaaaaaaaaaaaa', 'cell', 3000],
      ['outputs/1111', 'output', 5000],
      ['outputs/3333.partial-12-ab', 'partial', 100],
    ]);
    expect(existsSync(join(root, 'cells/aaaaaaaaaaaaaaaa'))).toBe(true); // dry run: nothing removed

    const removed = await pruneStore(root, { olderThanMs: 7 * DAY, now: NOW });
    expect(removed.map((p) => p.path)).toEqual(dry.map((p) => p.path));
    for (const p of removed) expect(existsSync(join(root, p.path))).toBe(false);
    for (const kept of ['cells/bbbbbbbbbbbbbbbb', 'outputs/2222', 'bases/cccc', 'notes.txt']) expect(existsSync(join(root, kept))).toBe(true);

    const withBases = await pruneStore(root, { olderThanMs: 7 * DAY, includeBases: true, now: NOW });
    expect(withBases.map((p) => [p.path, p.kind, p.bytes])).toEqual([['bases/cccc', 'base', 9000]]);
    expect((await pruneStore(root, { olderThanMs: 0, now: NOW })).map((p) => p.path)).toEqual(['cells/bbbbbbbbbbbbbbbb', 'outputs/2222']);
  });

  test('ages: d, h, m, s or 0; anything else is refused', () => {
    expect([parseAge('7d'), parseAge('12h'), parseAge('30m'), parseAge('45s'), parseAge('0')]).toEqual([7 * DAY, 12 * 3_600_000, 30 * 60_000, 45_000, 0]);
    for (const bad of ['', '7', '-1d', '1.5h', '7 days', '1w']) expect(parseAge(bad)).toBeNull();
  });

  test('through the CLI: a dry run lists, a bad age or a missing store exits 2 naming the flag', () => {
    const root = store();
    const dry = runCli(['store', 'prune', '--store', root, '--dry-run']);
    expect(dry.status, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/^would remove cells\/aaaaaaaaaaaaaaaa \(cell, 0\.0 MiB, last changed /m);
    expect(dry.stdout).toMatch(/store prune: would remove \d+ entries/);
    const badAge = runCli(['store', 'prune', '--store', root, '--older-than', '1w']);
    expect(badAge.status).toBe(2);
    expect(badAge.stderr).toContain('--older-than: found "1w", allowed: a whole number with d, h, m or s');
    const noStore = runCli(['store', 'prune', '--store', join(root, 'nope')]);
    expect(noStore.status).toBe(2);
    expect(noStore.stderr).toContain('nope: not a directory');
  });
});
