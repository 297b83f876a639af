#!/usr/bin/env node
import 'reflect-metadata';
import * as tf from '@tensorflow/tfjs';
import { main } from './cli.js';
import { installExitPaths } from './exit-paths.js';

tf.enableProdMode();
const controller = new AbortController();
installExitPaths(controller);
const code = await main(process.argv.slice(2), controller.signal);
process.exit(code);
