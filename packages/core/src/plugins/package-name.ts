import validateNpmPackageName from 'validate-npm-package-name';

/** The only short names: aliases of the two built-in placement plugins. Every other reference is a package name. */
export const BUILT_IN_ALIASES: Readonly<Record<string, string>> = {
  pattern: '@rankwise/placement-pattern',
  attention: '@rankwise/placement-attention',
};

/**
 * npm's rule for new package names, as one expression: an optional `@scope/`, then a lowercase, URL-safe name
 * that starts with neither `.` nor `_`. No path separators beyond the scope's, no `:` (so no URLs, `file:`,
 * `data:` or `node:`), no `..`.
 */
const PACKAGE_NAME = /^(?:@[a-z0-9-*~][a-z0-9-*._~]*\/)?[a-z0-9-~][a-z0-9-._~]*$/;

/** Why `reference` is not a loadable plugin name (null when it is one). Never touches the file system. */
export function pluginReferenceProblem(reference: string): string | null {
  if (Object.hasOwn(BUILT_IN_ALIASES, reference)) return null;
  const shown = JSON.stringify(reference);
  const allowed = `allowed: an npm package name (rankwise-placement-x, @scope/name) or ${Object.keys(BUILT_IN_ALIASES)
    .map((a) => `"${a}"`)
    .join(' / ')}`;
  if (/^[a-z][a-z0-9+.-]*:/i.test(reference)) {
    return `found ${shown}, a URL or protocol; ${allowed}. Plugins are never loaded from URLs: install the package (npm install <name>) and name it`;
  }
  if (reference.startsWith('.') || reference.startsWith('/') || reference.includes('\\') || /^[a-z]:/i.test(reference)) {
    return `found ${shown}, a path; ${allowed}. Plugins are never loaded from paths: install the folder as a package (npm install ./folder) and use its name`;
  }
  const checked = validateNpmPackageName(reference);
  const reasons = [...(checked.errors ?? []), ...(checked.warnings ?? [])];
  if (reasons.length > 0 || !PACKAGE_NAME.test(reference) || reference.length > 214) {
    return `found ${shown}, not a valid npm package name${reasons.length > 0 ? ` (${reasons.join('; ')})` : ''}; ${allowed}`;
  }
  return null;
}

/** `pattern` → `@rankwise/placement-pattern`; a valid package name passes through unchanged. */
export function pluginPackageName(reference: string): string {
  return Object.hasOwn(BUILT_IN_ALIASES, reference) ? BUILT_IN_ALIASES[reference] : reference;
}
