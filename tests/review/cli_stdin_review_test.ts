/**
 * Standard input on the command line, probed after `--manifest -` came
 * (review17): it can be read once, and what it holds is quoted in errors
 * without ever reaching the terminal raw.
 *
 * - `drill - -` ran the first script, then failed with "ReadableStream is
 *   locked or disturbed" (exit 1): now a usage error before anything runs.
 * - `graph --manifest -` with text that is not JSON quoted it (JSON.parse's
 *   message) with its control characters: ESC [ 31 m recoloured the
 *   terminal. The one-line error now shows them escaped (`\x1b`).
 */
import assert from "node:assert/strict";
import { runCli } from "../cli/_run.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const SCRIPT = `${ROOT}tests/drill/scripts/delayed_ack/two_segments.pkt`;

const run = (args: string[], input: Uint8Array | string, cwd?: string) =>
  runCli(args, cwd === undefined ? { input } : { input, cwd });

Deno.test("drill - - is a usage error (exit 2) before any script runs", async () => {
  const r = await run(["drill", "-", SCRIPT, "-"], await Deno.readFile(SCRIPT));
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stdout, "", "nothing ran");
  assert.match(r.stderr, /^cli\.ts drill: - \(standard input\) can be given once \(see /);
  assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  const once = await run(["drill", "-"], await Deno.readFile(SCRIPT)); // one - still reads it
  assert.equal(once.code, 0, once.stderr);
  assert.match(once.stdout, /^ok +- \(\d+ events/);
});

Deno.test("graph --manifest - with control characters on stdin: one line, exit 1, none of them raw", async () => {
  const r = await run(["graph", "--manifest", "-"], "x\x1b[31mred\x07\rz\x9b2J");
  assert.equal(r.code, 1);
  assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  assert.match(r.stderr, /^cli\.ts graph: .*standard input is not valid JSON/);
  // deno-lint-ignore no-control-regex
  const control = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/;
  assert.doesNotMatch(r.stderr.trimEnd(), control, JSON.stringify(r.stderr));
  assert.match(r.stderr, /x\\x1b\[31mred\\x07\\x0dz\\x9b2J/);
});
