/**
 * Just enough semver for plugin `api` ranges: exact `1.2.3`, caret `^1.2`,
 * tilde `~1.2.3`, comparators `>=1.0.0 <2.0.0`, x-ranges `1.x` and `*`, and
 * alternatives `^1.0.0 || ^2.0.0`. Partial versions are ranges as in npm
 * (`~1` is `>=1.0.0 <2.0.0`). Not supported: hyphen ranges `1.0.0 - 2.0.0`
 * and pre-release ordering (suffixes are ignored).
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

/** A version whose first `n` parts were given (the rest are wildcards), e.g. `1.2` has n = 2. */
interface Partial {
  readonly v: Version;
  readonly n: number;
}

function parsePartial(s: string): Partial | null {
  const m = /^v?(\d+|[xX*])(?:\.(\d+|[xX*]))?(?:\.(\d+|[xX*]))?(?:[-+].*)?$/.exec(s);
  if (!m) return null;
  const parts = [m[1], m[2], m[3]];
  let n = 0;
  while (n < 3 && parts[n] !== undefined && /^\d+$/.test(parts[n]!)) n++;
  // A number after a wildcard (`1.x.3`) is not a range.
  for (let i = n; i < 3; i++) if (parts[i] !== undefined && /^\d/.test(parts[i]!)) return null;
  const v: Version = [0, 0, 0];
  for (let i = 0; i < n; i++) v[i] = Number(parts[i]);
  return { v, n };
}

/** The smallest version above every version matching the first `n` parts of `v`. */
function bump(v: Version, n: number): Version {
  if (n <= 1) return [v[0] + 1, 0, 0];
  if (n === 2) return [v[0], v[1] + 1, 0];
  return [v[0], v[1], v[2] + 1];
}

function satisfiesOne(v: Version, part: string): boolean | null {
  const m = /^(\^|~|>=|<=|>|<|=)?(.+)$/.exec(part);
  if (!m) return null;
  const op = m[1] ?? "=";
  const p = parsePartial(m[2]!);
  if (!p) return null;
  const { v: r, n } = p;
  const c = cmp(v, r);
  // Partial versions are ranges, as in npm: `~1` is `>=1.0.0 <2.0.0`,
  // `^0.0` is `<0.1.0`, `1.2` is `1.2.x`, `<=1.2` is `<1.3.0`.
  if (n === 0) return op === "<" || op === ">" ? false : true;
  switch (op) {
    case "^": {
      if (c < 0) return false;
      if (r[0] > 0 || n === 1) return cmp(v, [r[0] + 1, 0, 0]) < 0;
      if (r[1] > 0 || n === 2) return cmp(v, [0, r[1] + 1, 0]) < 0;
      return cmp(v, [0, 0, r[2] + 1]) < 0;
    }
    case "~":
      return c >= 0 && cmp(v, bump(r, Math.min(n, 2))) < 0;
    case ">=":
      return c >= 0;
    case "<=":
      return n === 3 ? c <= 0 : cmp(v, bump(r, n)) < 0;
    case ">":
      return n === 3 ? c > 0 : cmp(v, bump(r, n)) >= 0;
    case "<":
      return c < 0;
    default:
      return c >= 0 && (n === 3 ? c === 0 : cmp(v, bump(r, n)) < 0);
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
  let any = false;
  // `a || b`: either comparator set; within a set, every comparator must hold.
  for (const set of range.split("||")) {
    const parts = set.trim().replace(/(\^|~|>=|<=|>|<|=)\s+/g, "$1").split(/\s+/);
    let all = true;
    for (const part of parts) {
      const ok = satisfiesOne(v, part);
      if (ok === null) return null;
      if (!ok) all = false;
    }
    if (all) any = true;
  }
  return any;
}
