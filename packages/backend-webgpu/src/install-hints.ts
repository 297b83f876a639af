/** One-line install instructions used in `provider.install` and in failure reasons. */

export const SOFTWARE_DRIVER_APT =
  'apt-get install mesa-vulkan-drivers/bookworm-backports libvulkan1 (Mesa >= 23 lavapipe; Debian 12 needs bookworm-backports ' +
  'in apt sources), or run packages/backend-webgpu/scripts/install-software-driver.sh';

export const GPU_DRIVER_HINT =
  'a Vulkan driver for the GPU (NVIDIA: the proprietary driver incl. its Vulkan ICD; AMD/Intel: apt-get install mesa-vulkan-drivers libvulkan1)';

export const PROVIDER_INSTALL =
  `pnpm add @rankwise/backend-webgpu (pulls the webgpu npm package with a prebuilt dawn.node); then ${GPU_DRIVER_HINT}; ` +
  `without a GPU: ${SOFTWARE_DRIVER_APT}`;

/** Turns Dawn's stderr warnings for one route into a human hint, or undefined when nothing is recognised. */
export function explainDawnWarnings(lines: readonly string[]): string | undefined {
  const text = lines.join('\n');
  if (/Couldn't load Vulkan|libvulkan\.so/i.test(text)) return 'Vulkan loader libvulkan.so.1 missing (apt-get install libvulkan1)';
  if (/ArrayDynamicIndexing required/.test(text))
    return 'Vulkan driver rejected by Dawn (Mesa < 23 lavapipe lacks shaderUniform*ArrayDynamicIndexing; install mesa-vulkan-drivers from bookworm-backports)';
  if (/Found no drivers|ERROR_INCOMPATIBLE_DRIVER/.test(text)) return 'Vulkan loader found no driver (no Vulkan ICD installed)';
  if (/eglInitialize failed|EGL_NOT_INITIALIZED|Couldn't create the default EGL display/.test(text))
    return 'EGL could not initialise (needs libegl1 libegl-mesa0 libgl1-mesa-dri; EGL_PLATFORM=surfaceless without a display)';
  if (/libEGL|Couldn't load.*EGL/i.test(text)) return 'libEGL.so missing (Dawn loads the unversioned name: apt-get install libegl1 libegl-dev libegl-mesa0)';
  const warning = lines.find((line) => line.startsWith('Warning:') && !/artificially reduced/.test(line));
  return warning?.replace(/^Warning:\s*/, '');
}
