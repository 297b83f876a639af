import { open, readFile, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, extname, join, resolve } from 'node:path';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { serve, type ServerType } from '@hono/node-server';
import { Hono, type Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import { observedStatus, readSummary } from '@rankwise/core/runs';
import { compareRuns } from '../compare/compare-runs.js';
import { curveSpecs } from '../report/curve-specs.js';
import { curvePoint, loadRun, type RunData } from '../report/run-data.js';
import { TensorBoardMapper } from '../tensorboard/tensorboard-observer.js';
import { runRows, runView } from './run-index.js';
import { safeResolve } from './safe-path.js';

const require = createRequire(import.meta.url);
const STATIC_DIR = fileURLToPath(new URL('../../static/', import.meta.url));

/** The browser libraries, served from the installed packages (the page loads nothing from the network). */
const VENDOR: Record<string, [string, string]> = {
  'vega.min.js': ['vega', 'build/vega.min.js'],
  'vega-lite.min.js': ['vega-lite', 'build/vega-lite.min.js'],
  'vega-embed.min.js': ['vega-embed', 'build/vega-embed.min.js'],
};

/** The folder of an installed package (its exports hide build/ from require.resolve): up from its entry point. */
function packageRoot(name: string): string {
  let dir = dirname(require.resolve(name));
  while (dir !== dirname(dir)) {
    try {
      if ((JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string }).name === name) return dir;
    } catch {
      // no package.json here
    }
    dir = dirname(dir);
  }
  throw new Error(`rankwise ui: cannot find the installed ${name} package`);
}
const PAGES: Record<string, [string, string]> = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/app.js': ['app.js', 'text/javascript; charset=utf-8'],
  '/app.css': ['app.css', 'text/css; charset=utf-8'],
};
const FILE_TYPES: Record<string, string> = {
  '.svg': 'image/svg+xml',
  '.html': 'text/html; charset=utf-8',
  '.json': 'application/json',
  '.jsonl': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

export interface UiOptions {
  /** Root of run directories (the CLI's --out). */
  out: string;
  /** Default 127.0.0.1: loopback only. */
  host?: string;
  /** 0: any free port. */
  port?: number;
  /** How often a live stream looks for new metrics lines (ms). */
  pollMs?: number;
}

export interface UiServer {
  url: string;
  close(): Promise<void>;
}

/** The routes of `rankwise ui` over the runs under `out` (exported for tests: `app.request(path)`). */
export function uiApp(options: { out: string; pollMs?: number }): Hono {
  const outRoot = resolve(options.out);
  const pollMs = options.pollMs ?? 400;
  const app = new Hono();
  const notFound = (c: Context) => c.text('not found', 404);

  /** A run folder named by a `run` query value (relative to --out), or null. */
  const runDir = async (rel: string | undefined): Promise<string | null> => {
    if (!rel) return null;
    const dir = await safeResolve(outRoot, rel);
    return dir && (await readSummary(dir)) ? dir : null;
  };
  const runsOf = async (c: Context): Promise<RunData[] | null> => {
    const rels = c.req.queries('run') ?? [];
    const dirs = await Promise.all(rels.map(runDir));
    if (dirs.length === 0 || dirs.some((d) => d === null)) return null;
    return Promise.all(dirs.map((d) => loadRun(d!)));
  };

  for (const [path, [file, type]] of Object.entries(PAGES)) {
    app.get(path, async (c) => c.body(await readFile(join(STATIC_DIR, file)), 200, { 'content-type': type, 'cache-control': 'no-store' }));
  }
  app.get('/vendor/:name', async (c) => {
    const vendor = VENDOR[c.req.param('name')];
    return vendor ? c.body(await readFile(join(packageRoot(vendor[0]), vendor[1])), 200, { 'content-type': 'text/javascript; charset=utf-8' }) : notFound(c);
  });

  app.get('/api/runs', async (c) => c.json({ out: outRoot, runs: await runRows(outRoot) }));
  app.get('/api/run', async (c) => {
    const runs = await runsOf(c);
    return runs?.length === 1 ? c.json(runView(runs[0])) : notFound(c);
  });
  app.get('/api/charts', async (c) => {
    const runs = await runsOf(c);
    if (!runs) return notFound(c);
    return c.json({ runs: runs.map((r) => r.name), points: runs.reduce((n, r) => n + r.curves.length, 0), specs: curveSpecs(runs) });
  });
  app.get('/api/compare', async (c) => {
    const runs = await runsOf(c);
    return runs ? c.json(await compareRuns(runs)) : notFound(c);
  });

  // Live: the run's curve points as metrics.jsonl grows, and its status when it changes (server-sent events).
  app.get('/api/live', async (c) => {
    const dir = await runDir(c.req.query('run'));
    if (!dir) return notFound(c);
    return streamSSE(c, async (stream) => {
      const file = join(dir, 'metrics.jsonl');
      const mapper = new TensorBoardMapper();
      let offset = 0;
      let rest = '';
      let status = '';
      let closed = false;
      stream.onAbort(() => {
        closed = true;
      });
      while (!closed) {
        const size = (await stat(file).catch(() => null))?.size ?? 0;
        if (size > offset) {
          const handle = await open(file, 'r');
          const buffer = Buffer.alloc(size - offset);
          await handle.read(buffer, 0, buffer.length, offset);
          await handle.close();
          offset = size;
          const lines = (rest + buffer.toString('utf8')).split('\n');
          rest = lines.pop() ?? '';
          const points = lines.flatMap((line) => {
            try {
              const p = curvePoint(mapper, JSON.parse(line) as Record<string, unknown>);
              return p ? [p] : [];
            } catch {
              return [];
            }
          });
          await stream.writeSSE({ event: 'points', data: JSON.stringify(points) });
        }
        const summary = await readSummary(dir);
        const now = summary ? observedStatus(summary) : 'unknown';
        if (now !== status) {
          status = now;
          await stream.writeSSE({ event: 'status', data: JSON.stringify({ status }) });
        }
        await stream.sleep(pollMs);
      }
    });
  });

  // Files inside --out (grid heatmaps, reports); nothing outside it, whatever the path says.
  app.get('/files/*', async (c) => {
    let rel: string;
    try {
      rel = decodeURIComponent(new URL(c.req.url).pathname.slice('/files/'.length));
    } catch {
      return notFound(c); // malformed percent-encoding
    }
    const file = await safeResolve(outRoot, rel);
    const type = file ? FILE_TYPES[extname(file)] : undefined;
    if (!file || !type || !(await stat(file)).isFile()) return notFound(c);
    return c.body(await readFile(file), 200, { 'content-type': type, 'x-content-type-options': 'nosniff' });
  });
  app.notFound(notFound);
  return app;
}

/** Starts the dashboard; resolves once it listens. */
export async function startUi(options: UiOptions): Promise<UiServer> {
  const app = uiApp(options);
  const host = options.host ?? '127.0.0.1';
  const server: ServerType = await new Promise((resolveServer, reject) => {
    const s = serve({ fetch: app.fetch, hostname: host, port: options.port ?? 6060 }, () => resolveServer(s));
    s.once('error', reject);
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shownHost}:${address.port}/`,
    close: () =>
      new Promise((done) => {
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
        server.close(() => done());
      }),
  };
}
