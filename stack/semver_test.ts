import assert from "node:assert/strict";
import { isVersion, parseVersion, satisfies } from "./semver.ts";

Deno.test("parseVersion() reads MAJOR.MINOR.PATCH, fills missing parts, ignores suffixes", () => {
  assert.deepEqual(parseVersion("1.2.3"), [1, 2, 3]);
  assert.deepEqual(parseVersion("v1.2"), [1, 2, 0]);
  assert.deepEqual(parseVersion("7"), [7, 0, 0]);
  assert.deepEqual(parseVersion("1.0.0-beta.1+build"), [1, 0, 0]);
  assert.equal(parseVersion("one"), null);
  assert.equal(parseVersion("1..2"), null);
});

Deno.test("isVersion() accepts only full versions", () => {
  assert.equal(isVersion("1.0.0"), true);
  assert.equal(isVersion("1.0.0-rc.1"), true);
  assert.equal(isVersion("1.0"), false);
  assert.equal(isVersion("1.0.0-"), false);
  assert.equal(isVersion("^1.0.0"), false);
});

const table: [string, string, boolean | null][] = [
  // exact
  ["1.2.3", "1.2.3", true],
  ["1.2.4", "1.2.3", false],
  ["1.2.3", "=1.2.3", true],
  // caret
  ["1.4.0", "^1.0.0", true],
  ["2.0.0", "^1.0.0", false],
  ["0.9.9", "^1.0.0", false],
  ["1.0.0", "^2.0.0", false],
  ["0.2.5", "^0.2.3", true],
  ["0.3.0", "^0.2.3", false],
  ["0.0.3", "^0.0.3", true],
  ["0.0.4", "^0.0.3", false],
  ["1.9.0", "^1.2", true],
  ["1.1.0", "^1.2", false],
  // caret on partial versions (npm): ^0 is <1.0.0, ^0.0 is <0.1.0
  ["0.5.0", "^0", true],
  ["1.0.0", "^0", false],
  ["0.0.9", "^0.0", true],
  ["0.1.0", "^0.0", false],
  // tilde
  ["1.2.9", "~1.2.3", true],
  ["1.3.0", "~1.2.3", false],
  ["1.2.2", "~1.2.3", false],
  ["1.2.0", "~1.2", true],
  ["1.9.0", "~1", true],
  ["2.0.0", "~1", false],
  // comparators and sets
  ["1.5.0", ">=1.0.0 <2.0.0", true],
  ["2.0.0", ">=1.0.0 <2.0.0", false],
  ["1.0.0", ">1.0.0", false],
  ["1.0.1", ">1.0.0", true],
  ["1.0.0", "<=1.0.0", true],
  ["1.2.9", "<=1.2", true],
  ["1.3.0", "<=1.2", false],
  ["1.2.9", ">1.2", false],
  ["1.3.0", ">1.2", true],
  ["1.5.0", ">= 1.0.0 < 2.0.0", true],
  // x-ranges and partial exact versions
  ["1.0.0", "*", true],
  ["1.0.0", "x", true],
  ["1.7.3", "1.x", true],
  ["2.0.0", "1.x", false],
  ["1.2.7", "1.2.x", true],
  ["1.2.7", "1.2", true],
  ["1.3.0", "1.2", false],
  ["1.0.0", "1", true],
  // alternatives
  ["2.1.0", "^1.0.0 || ^2.0.0", true],
  ["3.0.0", "^1.0.0 || ^2.0.0", false],
  ["1.0.0", ">=2.0.0 || <1.0.1", true],
  // does not parse
  ["1.0.0", "banana", null],
  ["1.0.0", "", null],
  ["1.0.0", "1.x.3", null],
  ["1.0.0", "^1.0.0 ||", null],
  ["nope", "^1.0.0", null],
];

for (const [version, range, expected] of table) {
  Deno.test(`satisfies("${version}", "${range}") is ${expected}`, () => {
    assert.equal(satisfies(version, range), expected);
  });
}
