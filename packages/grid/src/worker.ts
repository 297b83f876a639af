import 'reflect-metadata';
import * as tf from '@tensorflow/tfjs';
import { createRankwise, RunFailed } from '@rankwise/core';
import { LineProgress } from '@rankwise/core/runs';
import { RUN_OBSERVERS } from '@rankwise/observe';
import type { ParentMessage, WorkerMessage } from './worker-protocol.js';

/** A grid worker process: its own TensorFlow.js, running the cells the parent sends, one at a time. */
tf.enableProdMode();
const send = (message: WorkerMessage) => process.send?.(message);
const controller = new AbortController();
const progress = new LineProgress((line) => send({ type: 'log', line }), 10_000);
const rankwise = createRankwise({ progress, observers: [...RUN_OBSERVERS] });

process.on('message', async (message: ParentMessage) => {
  if (message.type === 'abort') return controller.abort();
  if (message.type === 'exit') return process.exit(0);
  try {
    const validated = await rankwise.validate(message.pipeline, message.baseDir);
    const { summary } = await rankwise.run(validated, { runDir: message.runDir, out: message.outRoot, backend: message.backend, signal: controller.signal });
    send({ type: 'done', id: message.id, summary });
  } catch (error) {
    const interrupted = error instanceof RunFailed && error.summary.status === 'interrupted';
    send({ type: 'failed', id: message.id, message: (error as Error).message, interrupted });
  }
});
process.on('SIGINT', () => controller.abort()); // the parent decides; a terminal Ctrl-C reaches both
// The parent died (kill -9, lost machine): nobody will take this cell's result, and a queued cell is already being
// handed to another worker; stop instead of training on as an orphan.
process.on('disconnect', () => process.exit(1));
send({ type: 'ready' });
