/**
 * The backend provider contract is core's (`@rankwise/core`, `src/backend/provider.ts`); this package uses its
 * types only (no runtime dependency on core), so the compiler checks that `provider` fits what core calls.
 */
export type {
  AdamSpec,
  BackendProvider,
  BackendStarted,
  BackendStartOptions,
  BackendStartResult,
  BackendUnavailable,
} from '@rankwise/core';
export type { QuantizedWeight } from '@rankwise/models';
