/**
 * packetdrill scripts on virtual time: {@linkcode runScript} parses a
 * script in packetdrill's language and runs it against a fresh stack,
 * injecting its inbound packets at a raw-IP link, matching its outbound
 * ones against what the stack sends (and when), and making its system calls
 * on the stack's sockets. Lines that need something the stack does not have
 * make the script "not run", with the reason.
 *
 * Files: `lexer.ts` and `parser.ts` (script → `ast.ts`), `setup.ts`
 * (options, sysctls), `packets.ts` (build inbound, match outbound),
 * `syscalls.ts` (file descriptors on `tcp.sockets`), `tcp_info.ts`
 * (`%{ assert tcpi_… }%`), `runner.ts` (time), `report.ts` (summaries).
 *
 * @example
 * ```ts
 * import { runScript } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const r = runScript(`
 * 0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
 * +0 bind(3, ..., ...) = 0
 * +0 listen(3, 1) = 0
 * +0 < S 0:0(0) win 32792 <mss 1000>
 * +0 > S. 0:0(0) ack 1 win 65535 <mss 1460>
 * `);
 * assert.equal(r.status, "passed", r.message);
 * ```
 *
 * @module
 */
export { type DrillResult, type DrillStatus, runScript, type RunScriptOptions } from "./runner.ts";
export { parseScript } from "./parser.ts";
export { DrillSyntaxError } from "./lexer.ts";
export type * from "./ast.ts";
export { formatResult, formatSummary, type NamedResult } from "./report.ts";
