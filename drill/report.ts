/**
 * Summaries of script runs: one line per script (`ok`, `FAIL file:line:
 * why`, `not run file:line: why`) and a count line.
 *
 * @module
 */
import type { DrillResult } from "./runner.ts";

/** A result with the script's name. */
export interface NamedResult extends DrillResult {
  /** File name (or any label). */
  readonly name: string;
}

/**
 * One line for a result (the failure text indented below it).
 *
 * @example
 * ```ts
 * import { formatResult } from "./report.ts";
 * import assert from "node:assert/strict";
 * const line = formatResult({ name: "a.pkt", status: "failed", line: 7, message: "bad", events: 3, elapsed: 0 });
 * assert.equal(line, "FAIL     a.pkt:7: bad");
 * ```
 */
export function formatResult(r: NamedResult): string {
  const where = r.line !== undefined ? `${r.name}:${r.line}` : r.name;
  switch (r.status) {
    case "passed":
      return `ok       ${r.name} (${r.events} events, ${(r.elapsed / 1e6).toFixed(3)} s virtual)`;
    case "failed":
      return `FAIL     ${where}: ${r.message ?? ""}`;
    case "not run":
      return `not run  ${where}: ${r.message ?? ""}`;
  }
}

/**
 * The count line: `60 passed, 1 failed, 2 not run`.
 *
 * @example
 * ```ts
 * import { formatSummary } from "./report.ts";
 * import assert from "node:assert/strict";
 * assert.equal(formatSummary([]), "0 passed, 0 failed, 0 not run");
 * ```
 */
export function formatSummary(results: readonly DrillResult[]): string {
  const n = (s: DrillResult["status"]) => results.filter((r) => r.status === s).length;
  return `${n("passed")} passed, ${n("failed")} failed, ${n("not run")} not run`;
}
