import { startUi } from '@rankwise/observe';
import { EXIT, type ExitCode } from '../exit-codes.js';

/** `rankwise ui`: serves the dashboard until Ctrl-C. */
export async function uiCommand(flags: { out: string; host: string; port: string }, signal: AbortSignal): Promise<ExitCode> {
  const port = Number(flags.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`✖ --port: expected a port number 0–65535, found "${flags.port}"`);
    return EXIT.invalid;
  }
  const server = await startUi({ out: flags.out, host: flags.host, port });
  console.log(
    `rankwise ui: ${server.url} (runs under ${flags.out}${flags.host === '127.0.0.1' || flags.host === 'localhost' ? '; this machine only, --host to share' : ''}); Ctrl-C stops`,
  );
  await new Promise<void>((done) => (signal.aborted ? done() : signal.addEventListener('abort', () => done(), { once: true })));
  await server.close();
  return EXIT.ok;
}
