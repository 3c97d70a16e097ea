/**
 * Just enough semver for plugin `api` ranges: exact `1.2.3`, caret `^1.2`,
 * tilde `~1.2.3`, comparators `>=1.0.0 <2.0.0`, and `*`.
 *
 * @module
 */

type Version = [number, number, number];

/** Parses `MAJOR.MINOR.PATCH` (pre-release and build suffixes ignored), or null. */
export function parseVersion(s: string): Version | null {
  const m = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:[-+].*)?$/.exec(s.trim());
  if (!m) return null;
  return [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)];
}

function cmp(a: Version, b: Version): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

/** True when `s` is a full `MAJOR.MINOR.PATCH` version. */
export function isVersion(s: string): boolean {
  return /^\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?$/.test(s);
}

function satisfiesOne(v: Version, part: string): boolean | null {
  if (part === "*" || part === "x") return true;
  const m = /^(\^|~|>=|<=|>|<|=)?(.+)$/.exec(part);
  if (!m) return null;
  const op = m[1] ?? "=";
  const r = parseVersion(m[2]!);
  if (!r) return null;
  const c = cmp(v, r);
  switch (op) {
    case "^":
      if (c < 0) return false;
      if (r[0] > 0) return v[0] === r[0];
      if (r[1] > 0) return v[0] === 0 && v[1] === r[1];
      return v[0] === 0 && v[1] === 0 && v[2] === r[2];
    case "~":
      return c >= 0 && v[0] === r[0] && v[1] === r[1];
    case ">=":
      return c >= 0;
    case "<=":
      return c <= 0;
    case ">":
      return c > 0;
    case "<":
      return c < 0;
    default:
      return c === 0;
  }
}

/**
 * Whether `version` satisfies `range`; null when the range does not parse.
 *
 * @example
 * ```ts
 * import { satisfies } from "./semver.ts";
 * import assert from "node:assert/strict";
 * assert.equal(satisfies("1.4.0", "^1.0.0"), true);
 * assert.equal(satisfies("2.0.0", "^1.0.0"), false);
 * ```
 */
export function satisfies(version: string, range: string): boolean | null {
  const v = parseVersion(version);
  if (!v) return null;
  const parts = range.trim().split(/\s+/);
  for (const part of parts) {
    const ok = satisfiesOne(v, part);
    if (ok === null) return null;
    if (!ok) return false;
  }
  return true;
}
