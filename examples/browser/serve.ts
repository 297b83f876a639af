/**
 * Serves the page, tfjs's browser bundle (from node_modules, no CDN) and two LayersModel folders on 127.0.0.1.
 *
 *   node --conditions=source --import tsx examples/browser/serve.ts     # the digits-cnn base and the latest run
 *   node --conditions=source --import tsx examples/browser/serve.ts --base <dir> --adapted <dir> --port 8080
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.json': 'application/json',
  '.bin': 'application/octet-stream',
  '.png': 'image/png',
};

/** tfjs's minified browser bundle, resolved from this package's dependencies. */
export function tfjsBundle(): string {
  return join(dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs/package.json')), 'dist', 'tf.min.js');
}

export interface PageServer {
  server: Server;
  url: string;
  close(): Promise<void>;
}

/** Routes: / and app.js from this folder, /tf.min.js, /models/base/* and /models/adapted/* from the given folders. */
export async function servePage(options: { base: string; adapted: string; port?: number }): Promise<PageServer> {
  const roots: Array<[string, string]> = [
    ['/models/base/', resolve(options.base)],
    ['/models/adapted/', resolve(options.adapted)],
  ];
  const fileFor = (path: string): string | null => {
    if (path === '/' || path === '/index.html') return join(here, 'index.html');
    if (path === '/app.js') return join(here, 'app.js');
    if (path === '/tf.min.js') return tfjsBundle();
    for (const [prefix, root] of roots) {
      if (!path.startsWith(prefix)) continue;
      const file = normalize(join(root, decodeURIComponent(path.slice(prefix.length))));
      return file.startsWith(root + sep) ? file : null;
    }
    return null;
  };
  const server = createServer(async (req, res) => {
    const file = fileFor(new URL(req.url ?? '/', 'http://localhost').pathname);
    const info = file ? await stat(file).catch(() => null) : null;
    if (!file || !info?.isFile()) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'content-length': info.size });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((done) => server.listen(options.port ?? 0, '127.0.0.1', done));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { server, url: `http://127.0.0.1:${port}/`, close: () => new Promise((done) => server.close(() => done())) };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({ options: { base: { type: 'string' }, adapted: { type: 'string' }, port: { type: 'string' } } });
  const page = await servePage({
    base: values.base ?? join(here, '..', 'digits-cnn', 'model'),
    adapted: values.adapted ?? resolve('runs', 'digits-cnn-lora', 'latest', 'tfjs'),
    port: values.port ? Number(values.port) : 8080,
  });
  console.log(`open ${page.url}`);
}
