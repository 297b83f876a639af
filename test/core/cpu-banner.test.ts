import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { expect, test } from 'vitest';

// Building a model from code, before any backend is resolved, makes tensors on tfjs's CPU backend. tfjs then prints
// "Hi, looks like you are running TensorFlow.js in Node.js …"; rankwise silences that one message (and only it).
test('building a model from code prints no tfjs-node banner, and other tfjs warnings still print', () => {
  const file = 'test/.cpu-banner.ts';
  writeFileSync(
    file,
    `import * as tf from '@tensorflow/tfjs';
import { createModel } from '@rankwise/core';
const model = createModel('mlp', { sizes: [4, 3, 2], activation: 'relu', dropout: 0 });
console.log('params', model.parameters().length, tf.getBackend());
tf.registerBackend('cpu', () => null as never); // an ordinary tfjs warning: "cpu backend was already registered"
`,
  );
  try {
    const result = spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', file], { encoding: 'utf8', timeout: 60_000 });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('params 4 cpu');
    expect(result.stdout + result.stderr).not.toContain('looks like you are running TensorFlow.js in Node.js');
    expect(result.stderr).toContain('cpu backend was already registered');
  } finally {
    rmSync(file, { force: true });
  }
}, 90_000);
