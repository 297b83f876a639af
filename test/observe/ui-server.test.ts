import { request } from 'node:http';
import { appendFile, mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { safeResolve, startUi, type UiServer } from '@rankwise/observe';

let out: string;
let outside: string;
let server: UiServer;
const RUN = 'tiny/20260101-000000';

/** A raw GET: the path goes on the wire exactly as written (no client-side normalization of `..`). */
function rawGet(path: string): Promise<{ status: number; body: string }> {
  const url = new URL(server.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path, method: 'GET' }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const train = (step: number) =>
  `${JSON.stringify({ time: new Date(Date.UTC(2026, 0, 1, 0, 0, step)).toISOString(), event: 'train', index: 4, step, loss: 3 - step / 100, gradNorm: 1, lr: 0.01, stepsPerSec: 10, elapsedMs: step * 100 })}\n`;

beforeAll(async () => {
  out = await mkdtemp(join(tmpdir(), 'rankwise-ui-'));
  outside = await mkdtemp(join(tmpdir(), 'rankwise-ui-outside-'));
  await writeFile(join(outside, 'secret.txt'), 'SECRET');
  const dir = join(out, RUN);
  await mkdir(dir, { recursive: true });
  // a running run: this process, this host
  await writeFile(
    join(dir, 'summary.json'),
    JSON.stringify({ pipeline: 'tiny', status: 'running', pid: process.pid, host: hostname(), startedAt: '2026-01-01T00:00:00.000Z' }),
  );
  await writeFile(join(dir, 'metrics.jsonl'), train(5) + train(10));
  await writeFile(join(dir, 'notes.txt'), 'inside');
  // a grid run: its folder has grid/heatmap.svg (and the cells their own folders)
  const grid = join(out, 'g', '20260101-000001');
  await mkdir(join(grid, 'grid'), { recursive: true });
  await writeFile(
    join(grid, 'summary.json'),
    JSON.stringify({ pipeline: 'g', status: 'completed', pid: 1, host: hostname(), startedAt: '2025-12-31T00:00:00.000Z', cells: 2 }),
  );
  await writeFile(join(grid, 'grid', 'heatmap.svg'), '<svg xmlns="http://www.w3.org/2000/svg"><rect/></svg>');
  await mkdir(join(out, 'g', 'cells', 'r1-all'), { recursive: true });
  await writeFile(
    join(out, 'g', 'cells', 'r1-all', 'summary.json'),
    JSON.stringify({
      pipeline: 'g',
      status: 'completed',
      pid: 1,
      host: hostname(),
      startedAt: '2025-12-31T00:00:02.000Z',
      evaluations: [{ metrics: { accuracy: 0.5 } }],
    }),
  );
  await symlink(outside, join(out, 'escape'));
  await symlink(join(outside, 'secret.txt'), join(dir, 'secret.txt'));
  server = await startUi({ out, port: 0, pollMs: 50 });
});

afterAll(async () => {
  await server?.close();
});

describe('rankwise ui: the server', () => {
  test('listens on loopback by default', () => {
    expect(new URL(server.url).hostname).toBe('127.0.0.1');
  });

  test('lists the run with its status, and serves its files and the locally installed chart libraries', async () => {
    const runs = JSON.parse((await rawGet('/api/runs')).body) as { runs: Array<{ run: string; status: string; pipeline: string }> };
    expect(runs.runs).toEqual([
      expect.objectContaining({ run: RUN, status: 'running', pipeline: 'tiny', kind: 'run' }),
      expect.objectContaining({ run: 'g/cells/r1-all', kind: 'cell', metrics: { accuracy: 0.5 } }),
      expect.objectContaining({ run: 'g/20260101-000001', kind: 'grid', heatmaps: ['g/20260101-000001/grid/heatmap.svg'] }),
    ]);
    const heatmap = await fetch(new URL('/files/g/20260101-000001/grid/heatmap.svg', server.url));
    expect(heatmap.headers.get('content-type')).toBe('image/svg+xml');
    expect(await heatmap.text()).toContain('<rect/>');
    expect(await rawGet(`/files/${RUN}/notes.txt`)).toEqual({ status: 200, body: 'inside' });
    const vega = await rawGet('/vendor/vega-embed.min.js');
    expect(vega.status).toBe(200);
    expect(vega.body).toContain('vegaEmbed');
    const charts = JSON.parse((await rawGet(`/api/charts?run=${encodeURIComponent(RUN)}`)).body) as { points: number; specs: { loss: unknown } };
    expect(charts.points).toBe(2);
  });

  test.each([
    '/files/../../../../etc/passwd',
    '/files/..%2f..%2f..%2f..%2fetc%2fpasswd',
    '/files/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
    '/files/tiny/%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd',
    '/files/%2fetc%2fpasswd',
    '/files//etc/passwd',
    '/files/..%5c..%5cetc%5cpasswd',
    '/files/tiny%00/x',
    '/files/%E0%A4%A',
    '/files/escape/secret.txt',
    `/files/${RUN}/secret.txt`,
    '/api/run?run=..%2F..%2F..%2Fetc',
    `/api/run?run=${encodeURIComponent(outside)}`,
    '/api/live?run=escape',
    '/vendor/..%2f..%2fpackage.json',
  ])('a crafted path cannot leave --out: %s', async (path) => {
    const { status, body } = await rawGet(path);
    expect(status).toBe(404);
    expect(body).not.toMatch(/root:|SECRET/);
  });

  test('safeResolve: inside paths resolve, escapes are null', async () => {
    expect(await safeResolve(out, `${RUN}/notes.txt`)).toMatch(/notes\.txt$/);
    for (const bad of ['..', '../x', 'a/../../x', '/etc/passwd', 'a\\..\\..\\x', 'a\0b', 'escape/secret.txt', 'escape'])
      expect(await safeResolve(out, bad)).toBeNull();
  });

  test('a running run streams its new curve points (server-sent events) as metrics.jsonl grows', async () => {
    const controller = new AbortController();
    const response = await fetch(new URL(`/api/live?run=${encodeURIComponent(RUN)}`, server.url), { signal: controller.signal });
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    const until = async (pattern: RegExp) => {
      while (!pattern.test(text)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended before ${pattern}`);
        text += decoder.decode(value);
      }
    };
    await until(/event: points\ndata: (\[.*\])\n/);
    const first = JSON.parse(/event: points\ndata: (\[.*\])\n/.exec(text)![1]) as Array<{ step: number; loss: number }>;
    expect(first.map((p) => p.step)).toEqual([5, 10]);
    await until(/"status":"running"/);
    text = '';
    await appendFile(join(out, RUN, 'metrics.jsonl'), train(15));
    await until(/event: points\ndata: (\[.*\])\n/);
    const next = JSON.parse(/event: points\ndata: (\[.*\])\n/.exec(text)![1]) as Array<{ step: number; loss: number; kind: string }>;
    expect(next).toEqual([{ step: 15, kind: 'train', loss: 2.85, lr: 0.01, gradNorm: 1, stepsPerSec: 10 }]);
    controller.abort();
  });
});
