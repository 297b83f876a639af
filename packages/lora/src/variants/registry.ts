import { Type, type TBoolean, type TOptional, type TUnsafe } from '@sinclair/typebox';
import { dora } from './dora.js';
import { gaussianInit } from './gaussian.js';
import { kaimingInit } from './kaiming.js';
import { plainLora } from './lora.js';
import { oloraInit } from './olora.js';
import { pissaInit } from './pissa.js';
import { rsloraScaling } from './rslora.js';
import type { LoraInitMethod, LoraVariant, LoraVariantTensor } from './types.js';

/** The built-in variants, the default (plain LoRA) first. A new variant: its file in this folder, and one line here. */
export const BUILTIN_LORA_VARIANTS = [plainLora, dora] as const;

/** The inits (PEFT's init_lora_weights), the default (kaiming) first. A new init: its file, and one line here. */
export const BUILTIN_LORA_INITS = [kaimingInit, gaussianInit, pissaInit, oloraInit] as const;

/** How A and B start: kaiming, gaussian, pissa, olora (one name per entry of BUILTIN_LORA_INITS). */
export type LoraInit = (typeof BUILTIN_LORA_INITS)[number]['name'];
export const LORA_INITS: readonly LoraInit[] = BUILTIN_LORA_INITS.map((i) => i.name);
const inits: readonly LoraInitMethod[] = BUILTIN_LORA_INITS;

/** The name of the default variant. */
export const PLAIN_LORA: string = plainLora.name;

const variants = new Map<string, LoraVariant>(BUILTIN_LORA_VARIANTS.map((v) => [v.name, v]));

/**
 * Adds a variant at run time (from code: tests, plugins). Its name, option key, PEFT key and tensor keys must be new.
 * The pipeline schema is built from BUILTIN_LORA_VARIANTS when core loads, so a variant registered here is selected
 * from code with `variant: "<name>"` in the inject targets; to offer it in pipeline files, list it there.
 */
export function registerLoraVariant(variant: LoraVariant): void {
  const clash = (what: string, value: string | undefined, of: (v: LoraVariant) => Array<string | undefined>) => {
    const other = [...variants.values()].find((v) => value !== undefined && of(v).includes(value));
    if (other) throw new Error(`LoRA variant "${variant.name}": ${what} ${JSON.stringify(value)} is already used by variant "${other.name}"`);
  };
  clash('name', variant.name, (v) => [v.name]);
  clash('option', variant.option?.key, (v) => [v.option?.key]);
  clash('PEFT config key', variant.peft?.key, (v) => [v.peft?.key]);
  for (const t of variant.tensors) clash('tensor', t.key, (v) => v.tensors.map((x) => x.key));
  if (!/^[a-z][a-z0-9_-]*$/.test(variant.name))
    throw new Error(`LoRA variant name ${JSON.stringify(variant.name)}: allowed lower-case letters, digits, "_" and "-"`);
  variants.set(variant.name, variant);
}

/** Removes a variant added by `registerLoraVariant` (built-ins stay). */
export function unregisterLoraVariant(name: string): void {
  if (BUILTIN_LORA_VARIANTS.some((v) => v.name === name)) throw new Error(`LoRA variant "${name}" is built in`);
  variants.delete(name);
}

/** Every registered variant, built-ins first. */
export function loraVariants(): LoraVariant[] {
  return [...variants.values()];
}

export function loraVariant(name: string): LoraVariant {
  const variant = variants.get(name);
  if (!variant) throw new Error(`LoRA variant ${JSON.stringify(name)} is not registered; registered: ${[...variants.keys()].join(', ')}`);
  return variant;
}

/**
 * The variant that adapter options select: `variant: "<name>"`, else the variant whose option flag is true
 * (`dora: true`), else plain LoRA. Two selections that disagree are refused.
 */
export function variantOf(options: object): LoraVariant {
  const given = options as Record<string, unknown>;
  const flags = loraVariants().filter((v) => v.option && given[v.option.key] === true);
  const named = given.variant === undefined ? undefined : loraVariant(String(given.variant));
  const chosen = [...new Set([...(named ? [named] : []), ...flags])];
  if (chosen.length > 1) throw new Error(`LoRA options select several variants (${chosen.map((v) => v.label).join(', ')}); one adapter has one variant`);
  return chosen[0] ?? plainLora;
}

/** The inject options that turn variants on, as the adapter records them: `{ dora: true }` for DoRA, `{}` for plain LoRA. */
export function variantFlags(variant: LoraVariant): Record<string, boolean> {
  return variant.option ? { [variant.option.key]: true } : {};
}

export function loraInit(name: string): LoraInitMethod {
  const init = inits.find((i) => i.name === name);
  if (!init) throw new Error(`LoRA init must be one of ${LORA_INITS.join(', ')}, got ${JSON.stringify(name)}`);
  return init;
}

/** Inits that move part of W into the adapter (the base then holds a residual). */
export function initMovesBase(init: string): boolean {
  return loraInit(init).fromBase !== undefined;
}

/** The value PEFT writes as `init_lora_weights` in adapter_config.json. */
export function peftInitValue(init: LoraInit): boolean | string {
  return loraInit(init).peftValue;
}

/** The rankwise init for a PEFT `init_lora_weights` value (absent, null or true: kaiming); null when rankwise has none. */
export function initFromPeft(value: unknown): LoraInit | null {
  if (value === undefined || value === null) return kaimingInit.name;
  return (inits.find((i) => i.peftValue === value)?.name as LoraInit | undefined) ?? null;
}

/** PEFT's init_lora_weights values rankwise reads, for messages: 'true, false, "gaussian", "pissa" or "olora"'. */
export function peftInitValues(): string {
  const values = ['true', 'false', ...BUILTIN_LORA_INITS.filter((i) => i.peftValue !== true).map((i) => JSON.stringify(i.peftValue))];
  return `${values.slice(0, -1).join(', ')} or ${values[values.length - 1]}`;
}

/** What only Linear sites take, for messages: "DoRA and PiSSA / OLoRA". */
export function linearOnlySummary(): string {
  const parts = [
    loraVariants()
      .filter((v) => v.linearOnly)
      .map((v) => v.label)
      .join(', '),
    inits
      .filter((i) => i.fromBase)
      .map((i) => i.label)
      .join(' / '),
  ];
  return parts.filter(Boolean).join(' and ');
}

/** A variant tensor's name in a PEFT file: `[base_model.model.]<site>.<key>[.default][.weight]`. */
export interface VariantTensorMatch {
  path: string;
  variant: LoraVariant;
  tensor: LoraVariantTensor;
}

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The site, variant and tensor a stored tensor name belongs to; null when it is no variant's tensor. */
export function matchVariantTensor(name: string): VariantTensorMatch | null {
  for (const variant of variants.values()) {
    for (const tensor of variant.tensors) {
      const match = new RegExp(`^(?:base_model\\.model\\.)?(.+)\\.${escapeRegExp(tensor.key)}(?:\\.default)?(?:\\.weight)?$`).exec(name);
      if (match) return { path: match[1], variant, tensor };
    }
  }
  return null;
}

/** The expected shape of a variant tensor at a site with `out` outputs. */
export function variantTensorShape(tensor: LoraVariantTensor, out: number): number[] {
  return tensor.shape === 'out' ? [out] : [1];
}

/** The variant tensors' names for messages: "<site>.lora_magnitude_vector". */
export function variantTensorNames(): string[] {
  return loraVariants().flatMap((v) => v.tensors.map((t) => `<site>.${t.key}`));
}

// ---- Schema fragments, derived from the lists above (the inject stage's options and the grid's variant axis) ----

type VariantOptionKey = Extract<(typeof BUILTIN_LORA_VARIANTS)[number]['option'], { key: string }>['key'];
type Where = 'inject' | 'grid';

/** rsLoRA's boolean option (`rslora`). */
export function rsloraOptionSchema(where: Where): TOptional<TBoolean> {
  const { description } = rsloraScaling.option;
  return Type.Optional(Type.Boolean(where === 'inject' ? { default: false, description } : { description }));
}

/** One boolean option per built-in variant (`dora`), in list order. */
export function variantOptionSchemas(where: Where): { [K in VariantOptionKey]: TOptional<TBoolean> } {
  return Object.fromEntries(
    BUILTIN_LORA_VARIANTS.flatMap((v) => {
      if (!v.option) return [];
      const description = where === 'inject' ? v.option.description : v.option.gridDescription;
      return [[v.option.key, Type.Optional(Type.Boolean(where === 'inject' ? { default: false, description } : { description }))]];
    }),
  ) as { [K in VariantOptionKey]: TOptional<TBoolean> };
}

/** The `init` option: one of the inits' names. */
export function initOptionSchema(where: Where): TOptional<TUnsafe<LoraInit>> {
  const names = [...LORA_INITS];
  if (where === 'grid') {
    return Type.Optional(
      Type.Unsafe<LoraInit>({ enum: names, description: `How A and B start: ${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}.` }),
    );
  }
  const moving = inits.filter((i) => i.fromBase).map((i) => i.name);
  const each = BUILTIN_LORA_INITS.map((i) => `${i.name} (${i.description})`).join(', ');
  const rank = moving.length ? ` ${moving.join(' and ')} need r ≤ min(in, out) at every site.` : '';
  return Type.Optional(
    Type.Unsafe<LoraInit>({ enum: names, default: kaimingInit.name, description: `How A and B start (PEFT init_lora_weights): ${each}.${rank}` }),
  );
}

/** The inject option keys the variants, inits and scaling rules add (what a grid variant may set besides alpha and dropout). */
export const LORA_VARIANT_OPTION_KEYS: readonly string[] = [
  rsloraScaling.option.key,
  ...BUILTIN_LORA_VARIANTS.flatMap((v) => (v.option ? [v.option.key] : [])),
  'init',
];
