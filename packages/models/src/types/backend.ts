/** The backend a run trains on, as a stage package sees it (plain fields; core's ResolvedBackend has more). */
export interface BackendInfo {
  /** rankwise's name for it: native, webgpu, wasm, cpu… */
  readonly name: string;
  /** What the pipeline asked for (`auto` or a name). */
  readonly requested: string;
  /** Why this backend: asked for by name, or the first of the auto order that started. */
  readonly reason: string;
  readonly kind: 'gpu' | 'cpu';
  /** Name of the registered TensorFlow.js backend. */
  readonly tfBackend: string;
  /** Facts worth printing: library paths, thread counts, adapter names… */
  readonly info: Readonly<Record<string, string | number | boolean>>;
  /** Backends tried before this one in auto order, each with why it was passed over. */
  readonly skipped: ReadonlyArray<{ readonly name: string; readonly reason: string; readonly detail?: string }>;
}
