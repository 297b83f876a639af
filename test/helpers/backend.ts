import * as tf from '@tensorflow/tfjs';
import { describeBackend, resolveBackend, type BackendRequest, type ResolvedBackend } from '@rankwise/core';

let logged = false;

/**
 * The backend tests run on: RANKWISE_TEST_BACKEND, else `auto` among CPU backends (the fastest present:
 * native when built, else wasm). Printed once per test file so a log says what the numbers were made on.
 */
export async function useTestBackend(request?: BackendRequest): Promise<ResolvedBackend> {
  const wanted = request ?? (process.env.RANKWISE_TEST_BACKEND as BackendRequest | undefined) ?? 'auto';
  const backend = await resolveBackend(wanted);
  tf.enableProdMode();
  if (!logged) {
    console.info(`[test] ${describeBackend(backend)}`);
    logged = true;
  }
  return backend;
}
