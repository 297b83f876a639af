#!/usr/bin/env node
import 'reflect-metadata';
import * as tf from '@tensorflow/tfjs';
import { main } from './cli.js';
import { EXIT } from './exit-codes.js';

tf.enableProdMode();
const controller = new AbortController();
process.on('SIGINT', () => {
  if (controller.signal.aborted) {
    console.error('\nsecond Ctrl-C: exiting now');
    process.exit(EXIT.interrupted);
  }
  console.error('\nCtrl-C: stopping after the current step (press again to quit at once)…');
  controller.abort();
});
const code = await main(process.argv.slice(2), controller.signal);
process.exit(code);
