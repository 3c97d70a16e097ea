/**
 * Help as a first-time user asks for it, through real `deno run cli.ts`
 * processes: `help -h` and `--help --help` print the overview (they were a
 * usage error naming a command "-h"), and every command, `drill` included,
 * answers `-h`, `--help` and `help COMMAND` with its usage on stdout, exit 0.
 */
import assert from "node:assert/strict";
import { runCli } from "../cli/_run.ts";

const run = (args: string[]) => runCli(args);

Deno.test("cli.ts help -h and --help --help print the overview, exit 0", async () => {
  for (const args of [["help", "-h"], ["help", "--help"], ["--help", "--help"], ["-h", "-h"]]) {
    const r = await run(args);
    assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stdout, /^deno-netstack \S+: a TCP\/IP stack/, args.join(" "));
    assert.equal(r.stderr, "");
  }
});

Deno.test("cli.ts drill answers -h, --help and help drill like every other command", async () => {
  for (const args of [["drill", "-h"], ["drill", "--help"], ["help", "drill"]]) {
    const r = await run(args);
    assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stdout, /^Usage: deno run --allow-read cli\.ts drill FILE\.\.\./);
    assert.equal(r.stderr, "");
  }
});
