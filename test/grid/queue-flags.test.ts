import { resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parseRunFlags, type CommonRunFlags } from '../../packages/cli/src/options.js';
import { runCli } from '../helpers/cli.js';

describe('queue flags', () => {
  test('bad --queue / --store / --attempts / --workers combinations are usage errors naming the flag', () => {
    const flags = { out: 'runs', set: [] };
    const cases: Array<[Partial<CommonRunFlags>, RegExp]> = [
      [{ queue: 'localhost:6379' }, /--queue: found scheme "localhost:"/],
      [{ store: '/tmp/x' }, /--store goes with --queue/],
      [{ queue: 'redis://127.0.0.1:9', attempts: '0' }, /--attempts: found "0", allowed: an integer from 1 to 100/],
      [{ queue: 'redis://127.0.0.1:9', workers: '2' }, /--workers and --queue: pick one/],
    ];
    for (const [extra, message] of cases) expect(() => parseRunFlags({ ...flags, ...extra })).toThrow(message);
    expect(parseRunFlags({ ...flags, queue: 'redis://q:7000/3', store: 'shared', attempts: '4' }).queue).toEqual({
      address: expect.objectContaining({ host: 'q', port: 7000, db: 3 }),
      store: resolve('shared'),
      attempts: 4,
    });
  });

  test('through the CLI: a usage error exits 2 before anything loads; a worker without a reachable Redis exits 1', () => {
    const usage = runCli(['worker', '--queue', 'redis://127.0.0.1:9', '--concurrency', 'many']);
    expect(usage.stderr).toMatch(/--concurrency: found "many", allowed: an integer from 1 to 64/);
    expect(usage.status).toBe(2);
    const unreachable = runCli(['worker', '--queue', 'redis://127.0.0.1:9']); // port 9 (discard): nothing listens
    expect(unreachable.stderr).toMatch(/✖ cannot reach Redis at redis:\/\/127\.0\.0\.1:9: .*ECONNREFUSED/);
    expect(unreachable.status).toBe(1);
  }, 120_000);
});
