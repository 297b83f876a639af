/** Finding, loading and describing the compiled Node-API addon (build/rankwise_native.node). */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type UnaryOpName =
  | 'NEG'
  | 'ABS'
  | 'SQUARE'
  | 'SQRT'
  | 'RSQRT'
  | 'RECIPROCAL'
  | 'EXP'
  | 'LOG'
  | 'TANH'
  | 'SIGMOID'
  | 'RELU'
  | 'RELU6'
  | 'LEAKY_RELU'
  | 'STEP'
  | 'ELU'
  | 'ERF'
  | 'SOFTPLUS'
  | 'POW_SCALAR'
  | 'LINEAR';
export type BinaryOpName = 'ADD' | 'SUB' | 'MUL' | 'DIV' | 'POW' | 'MAXIMUM' | 'MINIMUM' | 'SQUARED_DIFFERENCE' | 'PRELU';
export type ReduceOpName = 'SUM' | 'MEAN' | 'MAX' | 'MIN' | 'PROD';

/** Typed arrays with 4-byte elements, moved bit for bit by transpose / gather. */
export type Data32 = Float32Array | Int32Array | Uint32Array;

export interface AddonInitOptions {
  /** ':'-separated library names or paths, tried in order. */
  blasPaths: string;
  /** OPENBLAS_CORETYPE to set before loading BLAS when the environment has none ('' = none). */
  coretype: string;
  /** Pool threads (0 = one per CPU available to the process). */
  threads: number;
  /** Use the portable kernels even on an AVX2 CPU. */
  forceBaseline: boolean;
  /** 'pool': BLAS single-threaded inside our pool threads; 'blas': BLAS's own threads. */
  gemmThreading: 'pool' | 'blas';
  /** glibc's mmap threshold in bytes (mallopt), so freed tensor buffers go back to the system; 0 leaves glibc's. */
  mmapThreshold?: number;
}

export type AddonInitResult =
  | {
      ok: true;
      blasPath: string;
      coretype: string;
      blasConfig: string;
      blasThreads: number;
      threads: number;
      isa: string;
      gemmThreading: string;
      /** The mmap threshold set (0: glibc's own). */
      mmapThreshold?: number;
    }
  | { ok: false; reason: string };

/** The functions exported by native/rw_addon*.c. Sizes are element counts; every length is checked natively. */
export interface NativeAddon {
  init(options: AddonInitOptions): AddonInitResult;
  /** Detaches an ArrayBuffer no one reads any more, freeing its memory now (absent from an addon built before it). */
  releaseBuffer?(buffer: ArrayBufferLike): boolean;
  ops: {
    unary: Record<UnaryOpName, number>;
    binary: Record<BinaryOpName, number>;
    reduce: Record<ReduceOpName, number>;
  };
  sgemm(
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    a: Float32Array,
    b: Float32Array,
    c: Float32Array,
    batch: number,
    batchA: number,
    batchB: number,
  ): void;
  unary(op: number, x: Float32Array, y: Float32Array, alpha: number): void;
  /** spec = [rank, dims..., aStrides..., bStrides...] of the collapsed broadcast. */
  binary(op: number, a: Float32Array, b: Float32Array, out: Float32Array, spec: Float64Array): void;
  reduce(op: number, x: Float32Array, out: Float32Array, outer: number, reduceSize: number, inner: number): void;
  softmax(x: Float32Array, y: Float32Array, rows: number, cols: number): void;
  biasRows(c: Float32Array, bias: Float32Array, rows: number, cols: number): void;
  /** params = [beta1, beta2, 1-beta1, 1-beta2, 1-accBeta1, 1-accBeta2, epsilon, -lr, lr*weightDecay]. */
  adam(w: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, params: Float32Array): void;
  transpose(x: Data32, out: Data32, dims: Float64Array, strides: Float64Array): void;
  /** Returns -1, or the position of the first out-of-range index (nothing written then). */
  gather(params: Data32, indices: Int32Array, out: Data32, outer: number, axisDim: number, inner: number): number;
  segmentSum(data: Float32Array, ids: Int32Array, out: Float32Array, inner: number, numSegments: number): void;
  /**
   * y = a·Wᵀ (forward: a [n, cols] → y [n, rows]) or a·W (backward: a [n, rows] → y [n, cols]) with W [rows, cols]
   * quantized (type 0 nf4, 1 int8, 2 bf16), dequantized tile by tile; nf4: the 16 code values and the 256 absmax codes.
   */
  qmatmul(
    backward: boolean,
    a: Float32Array,
    y: Float32Array,
    n: number,
    rows: number,
    cols: number,
    type: number,
    data: Uint8Array | Int8Array | Uint16Array,
    qabsmax: Uint8Array,
    scales: Float32Array,
    offset: number,
    code: Float32Array,
    absmaxCode: Float32Array,
  ): void;
}

export type AddonLoad = { ok: true; addon: NativeAddon; path: string } | { ok: false; reason: string };

/** build/ next to src/ and dist/ (both one level below the package root). */
export function defaultAddonPath(): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..', 'build', 'rankwise_native.node');
}

function unavailableReason(addonPath: string): string | undefined {
  const file = join(dirname(addonPath), 'unavailable.json');
  if (!existsSync(file)) return undefined;
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { reason?: unknown; stage?: unknown };
    const stage = typeof parsed.stage === 'string' ? ` (${parsed.stage})` : '';
    return typeof parsed.reason === 'string' ? `${parsed.reason}${stage}` : undefined;
  } catch (error) {
    return `unreadable ${file}: ${String(error)}`;
  }
}

function isAddon(value: unknown): value is NativeAddon {
  const v = value as Partial<NativeAddon> | null;
  return !!v && typeof v.init === 'function' && typeof v.sgemm === 'function' && typeof v.ops === 'object';
}

export function loadAddon(addonPath: string = defaultAddonPath()): AddonLoad {
  if (!existsSync(addonPath)) {
    const why = unavailableReason(addonPath);
    return {
      ok: false,
      reason: why
        ? `native addon not built: ${why}`
        : `native addon not built: ${addonPath} is missing (run the package's install script: npm rebuild @rankwise/backend-native, or pnpm --filter @rankwise/backend-native run build:addon in the rankwise repository)`,
    };
  }
  try {
    const loaded: unknown = createRequire(import.meta.url)(addonPath);
    if (!isAddon(loaded)) return { ok: false, reason: `native addon ${addonPath} has unexpected exports` };
    return { ok: true, addon: loaded, path: addonPath };
  } catch (error) {
    return { ok: false, reason: `native addon ${addonPath} failed to load: ${error instanceof Error ? error.message : String(error)}` };
  }
}
