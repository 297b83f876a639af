import { createRequire } from 'node:module';
import type { DawnModule } from './dawn-types.js';
import { errorMessage } from './timeout.js';

export type DawnLoad = { ok: true; dawn: DawnModule; entry: string } | { ok: false; reason: string };

let loaded: Promise<DawnLoad> | undefined;

/** Loads the `webgpu` package (Dawn's prebuilt dawn.node) once; never throws. */
export function loadDawn(): Promise<DawnLoad> {
  loaded ??= importDawn();
  return loaded;
}

async function importDawn(): Promise<DawnLoad> {
  let entry: string;
  try {
    entry = createRequire(import.meta.url).resolve('webgpu');
  } catch {
    return { ok: false, reason: 'the webgpu npm package is not installed (pnpm add webgpu@0.6.2)' };
  }
  try {
    const dawn = (await import('webgpu')) as unknown as DawnModule;
    return { ok: true, dawn, entry };
  } catch (error) {
    return { ok: false, reason: `dawn.node from the webgpu package failed to load: ${errorMessage(error)}` };
  }
}

/** GPUBufferUsage, GPUMapMode, GPUShaderStage… that tfjs-backend-webgpu reads as globals. */
export function installDawnGlobals(dawn: DawnModule): void {
  for (const [name, value] of Object.entries(dawn.globals)) {
    if (!(name in globalThis)) Object.defineProperty(globalThis, name, { value, configurable: true, writable: true });
  }
}
