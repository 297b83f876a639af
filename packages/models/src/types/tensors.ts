import type { JsonObject, ModelTask } from './json.js';

/**
 * Models, modules and tensors as a stage package sees them: structural types that core's TensorFlow.js objects fit,
 * so `@rankwise/core/plugin` declares them without TensorFlow.js's types (a package compiles under a strict tsconfig
 * without `skipLibCheck`). The helpers below read values by calling the objects' own methods: nothing here imports
 * TensorFlow.js.
 */

/** What `data()` resolves to, by dtype: float32, int32, bool (Uint8Array), string. */
export type TensorData = Float32Array | Int32Array | Uint8Array | string[];

/** A tensor: its shape, dtype and an asynchronous read of its values (row-major, a copy). */
export interface TensorLike {
  readonly shape: number[];
  readonly dtype: string;
  /** Number of elements. */
  readonly size: number;
  data(): Promise<TensorData>;
}

/** A tensor the caller made (e.g. ΔW from `delta()`) and must dispose. */
export interface OwnedTensorLike extends TensorLike {
  dispose(): void;
}

/** A model parameter (a variable): its dotted name and whether training updates it. */
export interface ParameterLike extends TensorLike {
  readonly name: string;
  readonly trainable: boolean;
}

/** A module of the model tree (Linear, a block, a LoRA layer…). */
export interface ModuleLike {
  namedChildren(): Array<[string, ModuleLike]>;
  /** Every module in the tree, this one first (path `prefix`), depth first. */
  namedModules(prefix?: string): Array<[string, ModuleLike]>;
  /** Every parameter in the tree with its dotted path. */
  namedParameters(prefix?: string): Array<[string, ParameterLike]>;
  parameters(): ParameterLike[];
  trainableParameters(): ParameterLike[];
  /** The module at a dotted path; throws naming the path when there is none. */
  getSubmodule(path: string): ModuleLike;
}

/** The model of a run. */
export interface ModelLike extends ModuleLike {
  /** Zoo name, e.g. `mlp`, `gpt`. */
  readonly architecture: string;
  readonly task: ModelTask;
  readonly config: JsonObject;
  /** Language models: the longest sequence they take. */
  readonly contextLength: number | undefined;
  /** Classifiers that know it: one example's input shape without the batch axis. */
  readonly inputShape: readonly number[] | undefined;
}

/** One named adapter of a LoRA layer: its settings and factors, ΔW = scaling·A·B. */
export interface LoraFactorsLike {
  readonly name: string;
  readonly r: number;
  readonly alpha: number;
  readonly rslora: boolean;
  readonly scaling: number;
  /** The variant's registry name: lora, dora, … */
  readonly variant: string;
  readonly dora: boolean;
  /** kaiming, gaussian, pissa, olora. */
  readonly init: string;
  /** [fanIn, r] (PEFT's lora_A transposed). */
  readonly a: TensorLike;
  /** [r, out] (PEFT's lora_B transposed). */
  readonly b: TensorLike;
  /** The variant's extra tensors by PEFT name (DoRA: `lora_magnitude_vector` [out]). */
  readonly extras: Readonly<Record<string, TensorLike>>;
  /** DoRA's m: [out]; null without DoRA. */
  readonly magnitude: TensorLike | null;
}

/** A module carrying LoRA adapters (on a Linear, Conv2d or Embedding). */
export interface LoraModuleLike extends ModuleLike {
  readonly kind: 'linear' | 'conv2d' | 'embedding';
  /** Every adapter of this layer, in the order they were added. */
  readonly adapterNames: string[];
  /** The adapters the forward pass adds. */
  readonly activeAdapters: string[];
  adapter(name: string): LoraFactorsLike | null;
  /** Σ scaling·A·B over the active adapters, in the base weight's shape ([in, out] for a Linear). Caller disposes. */
  delta(): OwnedTensorLike;
}

/** A LoRA layer, recognised by shape (a second copy of core still fits). */
export function isLoraModule(module: ModuleLike): module is LoraModuleLike {
  const m = module as Partial<LoraModuleLike>;
  return typeof m.delta === 'function' && typeof m.adapter === 'function' && Array.isArray(m.adapterNames);
}

/** The model's LoRA layers with their dotted paths, in tree order. */
export function loraModules(model: ModuleLike): Array<[string, LoraModuleLike]> {
  return model.namedModules().filter((entry): entry is [string, LoraModuleLike] => isLoraModule(entry[1]));
}

/** Values read to host memory. */
export interface HostTensor {
  shape: number[];
  data: Float32Array;
}

/** Reads a float32 tensor (`await t.data()`); any other dtype is an error naming it. */
export async function readFloat32(tensor: TensorLike, what = 'tensor'): Promise<HostTensor> {
  if (tensor.dtype !== 'float32') throw new Error(`${what}: found dtype ${tensor.dtype}, allowed: float32`);
  return { shape: [...tensor.shape], data: (await tensor.data()) as Float32Array };
}

/** ΔW of a LoRA layer's active adapters in the base weight's shape, read to host memory (the tensor is disposed). */
export async function readLoraDelta(module: LoraModuleLike, what = 'delta'): Promise<HostTensor> {
  const delta = module.delta();
  try {
    return await readFloat32(delta, what);
  } finally {
    delta.dispose();
  }
}

/** One adapter of one site, read to host memory. */
export interface LoraSiteValues {
  /** Dotted path of the site. */
  path: string;
  adapter: string;
  active: boolean;
  r: number;
  alpha: number;
  scaling: number;
  /** The variant's registry name: lora, dora, … */
  variant: string;
  dora: boolean;
  /** [fanIn, r] */
  a: HostTensor;
  /** [r, out] */
  b: HostTensor;
  /** The variant's extra tensors by PEFT name (DoRA: `lora_magnitude_vector` [out]). */
  extras: Record<string, HostTensor>;
  /** DoRA's m: [out]; null without DoRA. */
  magnitude: HostTensor | null;
}

/** Every adapter of every LoRA layer of `model`, factors read to host memory; in tree order, then adapter order. */
export async function readLoraFactors(model: ModuleLike): Promise<LoraSiteValues[]> {
  const out: LoraSiteValues[] = [];
  for (const [path, module] of loraModules(model)) {
    for (const name of module.adapterNames) {
      const f = module.adapter(name);
      if (!f) continue;
      const extras: Record<string, HostTensor> = {};
      for (const [key, tensor] of Object.entries(f.extras)) extras[key] = await readFloat32(tensor, `${path} adapter ${name} ${key}`);
      out.push({
        path,
        adapter: name,
        active: module.activeAdapters.includes(name),
        r: f.r,
        alpha: f.alpha,
        scaling: f.scaling,
        variant: f.variant,
        dora: f.dora,
        a: await readFloat32(f.a, `${path} adapter ${name} A`),
        b: await readFloat32(f.b, `${path} adapter ${name} B`),
        extras,
        magnitude: f.magnitude ? await readFloat32(f.magnitude, `${path} adapter ${name} magnitude`) : null,
      });
    }
  }
  return out;
}
