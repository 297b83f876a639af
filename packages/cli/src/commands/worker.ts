import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { BACKEND_REQUESTS, type BackendRequest } from '@rankwise/core';
import {
  checkRedis,
  CELL_QUEUE,
  createCellExecutor,
  parseRedisUrl,
  stallSettings,
  startCellWorker,
  type CellJobData,
  type WorkerJobEvent,
} from '@rankwise/grid';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { parseCount, UsageError } from '../options.js';

export function workerOptions(command: Command): Command {
  return command
    .requiredOption('--queue <redis-url>', 'the queue the coordinator fills: redis://host:port[/db]')
    .option('--concurrency <n>', 'cells at once, each in its own process with its own TensorFlow.js', '1')
    .addOption(new Option('--backend <name>', `TensorFlow.js backend on this machine, overriding the grid's (${BACKEND_REQUESTS.join(', ')})`))
    .option('--store <dir>', "this machine's mount point of the shared store (default: the coordinator's --store path)")
    .option('--name <name>', 'this worker in logs and results (default host:pid)')
    .option('--quiet', 'job lines only, no training progress');
}

interface WorkerFlags {
  queue?: string;
  concurrency?: string;
  backend?: string;
  store?: string;
  name?: string;
  quiet?: boolean | string;
}

/**
 * `rankwise worker`: takes grid cells from the queue until stopped. The first Ctrl-C (or SIGTERM) stops taking
 * cells and lets the running ones finish; a second quits at once (those cells stall and go to another worker).
 */
export async function workerCommand(flags: WorkerFlags, signal: AbortSignal): Promise<ExitCode> {
  let address;
  let stall;
  try {
    address = parseRedisUrl(flags.queue ?? '');
    stall = stallSettings();
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const concurrency = parseCount('--concurrency', flags.concurrency ?? '1', 64);
  if (flags.backend !== undefined && !BACKEND_REQUESTS.includes(flags.backend as BackendRequest)) {
    throw new UsageError(`--backend: found "${flags.backend}", allowed: ${BACKEND_REQUESTS.join(', ')}`);
  }
  const backend = flags.backend as BackendRequest | undefined;
  const store = flags.store === undefined ? undefined : resolve(flags.store);
  const name = flags.name ?? `${hostname()}:${process.pid}`;
  try {
    await checkRedis(address);
  } catch (error) {
    console.error(`✖ ${(error as Error).message}`);
    return EXIT.failed;
  }
  // One cell at a time: its run's lines as they are; several: each line says which cell it is from.
  const onLog = (key: string, line: string) => flags.quiet || console.log(concurrency > 1 ? `  [${key}] ${line}` : `  ${line}`);
  const executor = await createCellExecutor({ store, backend, name, onLog });
  const running = new Set<string>();
  const label = (event: WorkerJobEvent) => {
    const data = event.data as Partial<CellJobData>;
    return `${data.grid ?? '?'}/${data.key ?? event.id}`;
  };
  const worker = startCellWorker({
    address,
    executor: executor.execute,
    concurrency,
    name,
    stall,
    onJob: (event) => {
      if (event.type === 'started') {
        running.add(event.id);
        console.log(`worker: running ${label(event)} (job ${event.id.slice(0, 12)}, attempt ${event.attempt} of ${event.attempts})`);
      } else {
        running.delete(event.id);
        if (event.type === 'completed') console.log(`worker: done ${label(event)} in ${(event.ms / 1000).toFixed(1)} s`);
        else
          console.log(
            `worker: failed ${label(event)} (attempt ${event.attempt} of ${event.attempts}${event.attempt < event.attempts ? ', to be tried again' : ''}): ${event.error}`,
          );
      }
    },
  });
  console.log(
    `worker ${name}: taking cells from ${address.display} (queue ${CELL_QUEUE}, concurrency ${concurrency}, backend ${backend ?? "the grid's"}, ` +
      `store ${store ?? "the coordinator's path"}, lock ${stall.lockDurationMs} ms); Ctrl-C stops after the running cells`,
  );
  const stop = new AbortController();
  const onTerm = () => stop.abort();
  process.once('SIGTERM', onTerm);
  const stopped = AbortSignal.any([signal, stop.signal]);
  await new Promise<void>((done) => (stopped.aborted ? done() : stopped.addEventListener('abort', () => done(), { once: true })));
  process.removeListener('SIGTERM', onTerm);
  process.once('SIGTERM', () => process.exit(EXIT.interrupted));
  console.log(
    `worker ${name}: stopping; ${running.size > 0 ? `finishing ${running.size} running cell(s) (Ctrl-C again quits now; they then go to another worker)` : 'no cell running'}`,
  );
  await worker.close();
  await executor.close();
  return EXIT.ok;
}
