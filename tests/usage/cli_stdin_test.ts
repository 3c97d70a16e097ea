/**
 * `-` is standard input wherever the command line takes a file (cli.ts's
 * convention): `--manifest -` too. It was read as a file named "-"
 * ("No such file or directory (os error 2): readfile '-'", exit 1) after the
 * argument check had let it pass as standard input.
 */
import assert from "node:assert/strict";
import { runCli } from "../cli/_run.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const PING_CAPTURE = `${ROOT}tests/fixtures/pcaps/icmp_echo.pcapng`;

const run = (args: string[], input: Uint8Array | string, cwd?: string) =>
  runCli(args, cwd === undefined ? { input } : { input, cwd });

Deno.test("graph --manifest - reads the manifest from standard input, plugin paths from the working directory", async () => {
  const manifest = { plugins: ["ethernet", "arp", "ipv4", "icmp", "./block_source/mod.ts"] };
  const r = await run(["graph", "--manifest", "-"], JSON.stringify(manifest), `${ROOT}plugins`);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /-\[ip\.protocol 1\]-> icmp/);
  assert.match(r.stdout, /hook prerouting: block_source/);
  assert.doesNotMatch(r.stdout, /tcp|udp/, "the manifest's plugins, not the defaults");
});

Deno.test("replay FILE --manifest - replays with the manifest's plugins", async () => {
  const manifest = { plugins: ["ethernet", "arp", "ipv4", "icmp"] };
  const r = await run(
    ["replay", PING_CAPTURE, "--manifest", "-", "--address", "192.168.100.1/24"],
    JSON.stringify(manifest),
  );
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /accepted\s+4\n\s+icmp\s+4/);
});

Deno.test("--manifest - errors: not JSON is one line, exit 1; replay - --manifest - is a usage error, exit 2", async () => {
  const bad = await run(["graph", "--manifest", "-"], "not json");
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^cli\.ts graph: .*standard input is not valid JSON/);
  assert.equal(bad.stderr.trim().split("\n").length, 1, bad.stderr);
  const both = await run(["replay", "-", "--manifest", "-", "--address", "10.0.0.2/24"], "");
  assert.equal(both.code, 2);
  assert.match(both.stderr, /^cli\.ts replay: FILE and --manifest cannot both be - /);
});
