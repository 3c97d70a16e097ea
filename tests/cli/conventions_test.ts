/**
 * The command line's shared conventions, through real `deno run cli.ts`
 * processes: help on every command, `--version`, exit codes (2 usage, 1
 * failure), one error line `cli.ts <command>: …` without a stack trace,
 * `graph --manifest` with `--plugin`, `deno task graph`'s permissions, and
 * `demo --out` checked before the demo runs.
 */
import assert from "node:assert/strict";
import denoJson from "../../deno.json" with { type: "json" };
import { PcapWriter } from "../../drivers/pcapfile/mod.ts";
import { runCli } from "./_run.ts";

const CLI = new URL("../../cli.ts", import.meta.url).pathname;
const ROOT = new URL("../../", import.meta.url).pathname;
const COMMANDS = ["demo", "graph", "up", "replay", "decode"];

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `deno run PERMISSIONS cli.ts ARGS` in `cwd` (default the repository). */
function run(args: string[], permissions = ["-A"], cwd = ROOT): Promise<Result> {
  return runCli(args, { permissions, cwd });
}

/** Asserts `r` failed with `code` and exactly one `cli.ts <command>: ` line on stderr. */
function assertOneLine(r: Result, code: number, command: string, why: RegExp): void {
  assert.equal(r.code, code, r.stderr);
  const lines = r.stderr.split("\n").filter((l) => l !== "");
  assert.equal(lines.length, 1, r.stderr);
  assert.ok(lines[0]!.startsWith(`cli.ts ${command}: `), lines[0]);
  assert.match(lines[0]!, why);
  assert.doesNotMatch(r.stderr, /^\s+at /m, "no stack trace");
}

Deno.test("cli.ts: -h and --help work on every command, and help COMMAND too", async () => {
  for (const cmd of COMMANDS) {
    for (const flag of ["-h", "--help"]) {
      const r = await run([cmd, flag]);
      assert.equal(r.code, 0, `${cmd} ${flag}: ${r.stderr}`);
      assert.match(r.stdout, /^Usage: deno run /, `${cmd} ${flag}`);
      assert.equal(r.stderr, "");
    }
    const h = await run(["help", cmd]);
    assert.equal(h.code, 0);
    assert.match(h.stdout, /^Usage: deno run /);
  }
});

Deno.test("cli.ts --version prints the version of deno.json", async () => {
  const r = await run(["--version"]);
  assert.equal(r.code, 0);
  assert.equal(r.stdout, `deno-netstack ${denoJson.version}\n`);
});

Deno.test("cli.ts: an unknown command or option is a usage error, exit 2, one line", async () => {
  const r = await run(["nope"]);
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim().split("\n").length, 1);
  assert.match(
    r.stderr,
    /^cli\.ts: unknown command "nope" \(commands: demo, graph, up, replay, decode/,
  );
  // The same words in every command: node:util's hint for commands taking
  // files ("To specify a positional argument starting with a '-', … as in
  // '-- "--no-such-option"", its quotes unbalanced) is left out.
  for (const cmd of [...COMMANDS, "drill"]) {
    assertOneLine(
      await run([cmd, "--no-such-option"]),
      2,
      cmd,
      new RegExp(
        `^cli\\.ts ${cmd}: Unknown option '--no-such-option' \\(see "cli\\.ts ${cmd} --help"\\)$`,
      ),
    );
  }
  assertOneLine(await run(["demo", "--hosts", "99"]), 2, "demo", /--hosts must be 2\.\.50/);
});

Deno.test("graph honours --plugin together with --manifest", async () => {
  const dir = await Deno.makeTempDir({ prefix: `graph-${Deno.pid}-` });
  try {
    await Deno.writeTextFile(
      `${dir}/stack.json`,
      JSON.stringify({ plugins: ["ethernet", "arp", "ipv4", "icmp"] }),
    );
    const r = await run([
      "graph",
      "--manifest",
      `${dir}/stack.json`,
      "--plugin",
      "./plugins/block_source/mod.ts",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^hook prerouting: block_source$/m);
    assert.doesNotMatch(r.stdout, /-> udp/, "the manifest's list, not the defaults");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("graph --help names example plugins that exist, and they load", async () => {
  const help = (await run(["graph", "--help"])).stdout;
  const named = [...help.matchAll(/--plugin (\.\/plugins\/\S+)/g)].map((m) => m[1]!);
  assert.ok(named.length > 0);
  for (const p of named) {
    const r = await run(["graph", "--plugin", p]);
    assert.equal(r.code, 0, `${p}: ${r.stderr}`);
  }
});

Deno.test("deno task graph has the read permission a --plugin needs", async () => {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["task", "-q", "graph", "--plugin", "./plugins/hello_ether/mod.ts"],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000),
  }).output();
  const d = new TextDecoder();
  assert.equal(r.code, 0, d.decode(r.stderr));
  assert.match(d.decode(r.stdout), /ethertype 0x88b5/);
});

Deno.test("graph with a missing plugin file is one line naming it (exit 2)", async () => {
  assertOneLine(
    await run(["graph", "--plugin", `./nonexistent-${Deno.pid}.ts`]),
    2,
    "graph",
    /--plugin \.\/nonexistent-\d+\.ts: no such file/,
  );
});

Deno.test("demo --out outside the allowed folder fails at once, before the demo runs", async () => {
  const dir = await Deno.makeTempDir({ prefix: `demo-${Deno.pid}-` });
  try {
    const t0 = performance.now();
    const r = await run(
      ["demo", "--out", "../x.pcap"],
      [`--allow-read=${dir}`, `--allow-write=${dir}`],
      dir,
    );
    assertOneLine(r, 2, "demo", /--out \.\.\/x\.pcap: no permission to write it/);
    assert.equal(r.stdout, "", "nothing of the demo ran");
    assert.ok(performance.now() - t0 < 30_000);
    const missing = await run(["demo", "--out", `${dir}/no/such/dir/x.pcap`]);
    assertOneLine(missing, 2, "demo", /does not exist/);
    assert.equal(missing.stdout, "");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("demo --out - writes the capture to standard output and the text to standard error", async () => {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, "demo", "--out", "-", "--format", "pcapng"],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000),
  }).output();
  assert.equal(r.code, 0);
  assert.deepEqual([...r.stdout.subarray(0, 4)], [0x0a, 0x0d, 0x0d, 0x0a]); // pcapng SHB
  assert.match(new TextDecoder().decode(r.stderr), /^deno-netstack demo: /);
});

/** A plugin module (no imports) whose `setup`/`ready` run `body`. */
function pluginModule(name: string, hooks: { setup?: string; ready?: string }): string {
  return `export default {
  manifest: { name: ${JSON.stringify(name)}, version: "1.0.0", api: "^1.0.0",
    description: "test", layer: "service", binds: [], counters: [] },
  setup() { ${hooks.setup ?? ""}; return { ready() { ${hooks.ready ?? ""} } }; },
};
`;
}

Deno.test("plugin loading and boot failures: one line naming the plugin, exit 1, in graph, up and replay", async () => {
  const dir = await Deno.makeTempDir({ prefix: `plugins-${Deno.pid}-` });
  try {
    await Deno.writeTextFile(`${dir}/boom.ts`, `throw new Error("boom at import");\n`);
    await Deno.writeFile(`${dir}/in.pcap`, new PcapWriter({ linkType: 101 }).bytes());
    await Deno.writeTextFile(`${dir}/empty.ts`, `export const x = 1;\n`);
    await Deno.writeTextFile(
      `${dir}/setup.ts`,
      pluginModule("setupfail", { setup: 'throw new Error("no way")' }),
    );
    await Deno.writeTextFile(
      `${dir}/ready.ts`,
      pluginModule("readyfail", { ready: 'throw new Error("not ready")' }),
    );
    const cases: [string, RegExp][] = [
      ["boom.ts", /Cannot load plugin ".*boom\.ts": importing .* threw: boom at import$/],
      ["empty.ts", /Cannot load plugin ".*empty\.ts": .* exports no plugin .*\(its exports: x\)$/],
      ["setup.ts", /Plugin "setupfail" failed in setup\(\): no way$/],
      ["ready.ts", /Plugin "readyfail" failed in ready\(\): not ready$/],
    ];
    for (const [file, why] of cases) {
      assertOneLine(await run(["graph", "--plugin", `${dir}/${file}`]), 1, "graph", why);
      assertOneLine(
        await run(["up", "--driver", "loopback", "--plugin", `${dir}/${file}`]),
        1,
        "up",
        why,
      );
      assertOneLine(
        await run(["replay", `${dir}/in.pcap`, "--plugin", `${dir}/${file}`]),
        1,
        "replay",
        why,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
