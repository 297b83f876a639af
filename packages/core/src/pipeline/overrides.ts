import { escapePointer, parsePointer, type ValidationIssue } from './issues.js';

/** `--set <json-pointer-or-dotted-path>=<value>`; the value is JSON when it parses, else a string. */
export interface Override {
  pointer: string;
  value: unknown;
  /** As the user wrote it, for messages. */
  source: string;
}

export function parseOverride(text: string): Override {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new Error(`--set ${text}: expected <path>=<value>, e.g. --set stages.3.steps=100 or --set /seed=7`);
  const path = text.slice(0, eq).trim();
  const rawValue = text.slice(eq + 1);
  const pointer = path.startsWith('/') ? path : `/${path.split('.').map(escapePointer).join('/')}`;
  let value: unknown;
  try {
    value = JSON.parse(rawValue);
  } catch {
    value = rawValue;
  }
  return { pointer, value, source: text };
}

/** Applies overrides to a deep copy; returns the copy and one issue per override that cannot apply. */
export function applyOverrides(data: unknown, overrides: readonly Override[]): { data: unknown; issues: ValidationIssue[] } {
  const copy = structuredClone(data) as unknown;
  const issues: ValidationIssue[] = [];
  for (const override of overrides) {
    const tokens = parsePointer(override.pointer);
    let target = copy as Record<string, unknown> | unknown[];
    let failed = false;
    for (let i = 0; i < tokens.length - 1 && !failed; i++) {
      const token = tokens[i];
      const where = `/${tokens.slice(0, i + 1).map(escapePointer).join('/')}`;
      if (Array.isArray(target)) {
        const index = Number(token);
        if (!Number.isInteger(index) || index < 0 || index >= target.length) {
          issues.push({ file: '--set', pointer: where, message: `${override.source}: no item ${token} (the array has ${target.length})` });
          failed = true;
        } else target = target[index] as Record<string, unknown>;
      } else {
        target[token] ??= {};
        target = target[token] as Record<string, unknown>;
      }
      if (!failed && (target === null || typeof target !== 'object')) {
        issues.push({ file: '--set', pointer: where, message: `${override.source}: ${where} is not an object or array` });
        failed = true;
      }
    }
    if (failed) continue;
    const last = tokens[tokens.length - 1];
    if (Array.isArray(target)) {
      const index = Number(last);
      if (!Number.isInteger(index) || index < 0 || index > target.length) {
        issues.push({ file: '--set', pointer: override.pointer, message: `${override.source}: no item ${last} (the array has ${target.length})` });
        continue;
      }
      target[index] = override.value;
    } else {
      target[last] = override.value;
    }
  }
  return { data: copy, issues };
}
