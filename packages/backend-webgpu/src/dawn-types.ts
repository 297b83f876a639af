/**
 * The small part of Dawn's Node binding (`webgpu` npm package) that this package uses, typed
 * structurally so that no global `@webgpu/types` declarations leak into public types.
 */

/** `GPUAdapterInfo` as dawn.node fills it in. */
export interface DawnAdapterInfo {
  readonly vendor: string;
  readonly architecture: string;
  readonly device: string;
  readonly description: string;
  /** Newer spec location of the fallback bit (dawn.node 0.6 sets it here, not on the adapter). */
  readonly isFallbackAdapter?: boolean;
}

export interface DawnAdapterOptions {
  powerPreference?: 'low-power' | 'high-performance';
  /** 'compatibility' is required for Dawn's OpenGL / OpenGL ES backends. */
  featureLevel?: 'core' | 'compatibility';
}

export interface DawnDeviceDescriptor {
  requiredLimits?: Record<string, number>;
  requiredFeatures?: string[];
}

export interface DawnDeviceLostInfo {
  readonly reason: string;
  readonly message: string;
}

export interface DawnDevice {
  readonly lost: Promise<DawnDeviceLostInfo>;
  destroy(): void;
}

export interface DawnAdapter {
  readonly info: DawnAdapterInfo;
  readonly features: ReadonlySet<string>;
  readonly limits: Readonly<Record<string, number>>;
  requestDevice(descriptor?: DawnDeviceDescriptor): Promise<DawnDevice>;
}

export interface DawnGpu {
  requestAdapter(options?: DawnAdapterOptions): Promise<DawnAdapter | null>;
}

/** The `webgpu` package's exports. */
export interface DawnModule {
  create(flags: string[]): DawnGpu;
  globals: Record<string, unknown>;
}
