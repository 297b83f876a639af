import { MAX_JSON_DEPTH, parseJsonText } from '@rankwise/formats';
import { escapePointer, parsePointer, type ValidationIssue } from './issues.js';

/** Keys that would reach Object.prototype instead of the pipeline. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
/** An array index as people write it: plain decimal, no sign, no leading zeros, no hex or exponent. */
const ARRAY_INDEX = /^(?:0|[1-9][0-9]{0,8})$/;

/** Why a path segment cannot be used, or null when it can. */
function badSegment(token: string): string | null {
  if (token === '') return 'an empty segment';
  if (FORBIDDEN_KEYS.has(token)) return `the segment "${token}" (not a pipeline field)`;
  return null;
}

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
  for (const token of parsePointer(pointer)) {
    const bad = badSegment(token);
    if (bad) throw new Error(`--set ${text}: the path has ${bad}; expected field names and array indexes, e.g. stages.3.steps`);
    if (/^[0-9]/.test(token) && !ARRAY_INDEX.test(token)) {
      throw new Error(`--set ${text}: "${token}" is not an array index; allowed: a plain decimal integer such as 3`);
    }
  }
  const parsed = parseJsonText(rawValue);
  if (!parsed.ok && /nested more than/.test(parsed.message))
    throw new Error(`--set ${text.slice(0, 80)}: the value is nested more than ${MAX_JSON_DEPTH} levels deep`);
  const value = parsed.ok ? parsed.value : rawValue;
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
    const bad = tokens.map(badSegment).find((b) => b !== null);
    if (bad || tokens.length === 0) {
      issues.push({ file: '--set', pointer: override.pointer, message: `${override.source}: the path has ${bad ?? 'no segments'}` });
      continue;
    }
    for (let i = 0; i < tokens.length - 1 && !failed; i++) {
      const token = tokens[i];
      const where = `/${tokens
        .slice(0, i + 1)
        .map(escapePointer)
        .join('/')}`;
      if (Array.isArray(target)) {
        const index = ARRAY_INDEX.test(token) ? Number(token) : -1;
        if (index < 0 || index >= target.length) {
          issues.push({ file: '--set', pointer: where, message: `${override.source}: no item ${token} (the array has ${target.length})` });
          failed = true;
        } else target = target[index] as Record<string, unknown>;
      } else {
        if (!Object.hasOwn(target, token)) target[token] = {};
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
      const index = ARRAY_INDEX.test(last) ? Number(last) : -1;
      if (index < 0 || index > target.length) {
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
