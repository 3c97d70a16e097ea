/**
 * Makes each packetdrill script (`.pkt`) in a folder a `Deno.test`: the
 * script runs on a fresh stack on virtual time (`drill/`); a failure fails
 * the test with packetdrill's text and the script's line. A script that is
 * "not run" fails too unless `notRun: "skip"` (for a foreign suite), which
 * prints the reason outside CI and fails under CI (tests/_require.ts).
 *
 * @module
 */
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { runScript, type RunScriptOptions } from "../../drill/mod.ts";
import { cannotCheck } from "../_require.ts";

/**
 * A passive open as scripts start it (7 lines): socket, bind, listen, the
 * peer's SYN with mss 1000 and wscale 7, our SYN-ACK, its ACK, accept → fd 4.
 */
export const PASSIVE = `0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 bind(3, ..., ...) = 0
+0 listen(3, 1) = 0
+0 < S 0:0(0) win 32792 <mss 1000,sackOK,nop,nop,nop,wscale 7>
+0 > S. 0:0(0) ack 1 <...>
+.1 < . 1:1(0) ack 1 win 257
+0 accept(3, ..., ...) = 4
`;

/** Options of {@linkcode drillTests}. */
export interface DrillTestOptions extends
  Pick<
    RunScriptOptions,
    "strictSegments" | "tolerance" | "tso"
  > {
  /** What a "not run" script does: fail the test (default) or skip with its reason. */
  readonly notRun?: "fail" | "skip";
  /** Test name prefix (default "drill"). */
  readonly prefix?: string;
}

/** Every `.pkt` below `dir`, sorted (synchronous: tests are registered at load). */
export function scriptFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(dir)) {
    const path = join(dir, e.name);
    if (e.isDirectory) out.push(...scriptFiles(path));
    else if (e.name.endsWith(".pkt")) out.push(path);
  }
  return out.sort();
}

/**
 * Registers one test per script below `dir` (a path or a `file:` URL).
 *
 * @example
 * ```ts ignore
 * import { drillTests } from "./_drill.ts";
 * drillTests(new URL("./scripts/", import.meta.url));
 * ```
 */
export function drillTests(dir: string | URL, options: DrillTestOptions = {}): void {
  const root = typeof dir === "string" ? dir : fileURLToPath(dir);
  for (const file of scriptFiles(root)) {
    const name = relative(root, file);
    Deno.test(`${options.prefix ?? "drill"} ${name}`, () => {
      const r = runScript(Deno.readTextFileSync(file), {
        ...(options.strictSegments !== undefined ? { strictSegments: options.strictSegments } : {}),
        ...(options.tolerance !== undefined ? { tolerance: options.tolerance } : {}),
        ...(options.tso !== undefined ? { tso: options.tso } : {}),
      });
      const where = r.line !== undefined ? `${name}:${r.line}` : name;
      if (r.status === "failed") throw new Error(`${where}: ${r.message}`);
      if (r.status === "not run") {
        if (options.notRun !== "skip") throw new Error(`${where}: not run: ${r.message}`);
        cannotCheck(where, r.message ?? "not run");
      }
    });
  }
}
