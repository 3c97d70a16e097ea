/**
 * `up --cpu N`, with one interface and as a gateway, pins every thread of
 * the process to CPU N (the JS thread, V8's and the runtime's workers),
 * before any device is opened; a CPU the process may not use, or a value
 * that is not a whole number, is a usage error (exit 2, one line) with the
 * same words in both modes.
 */
import assert from "node:assert/strict";
import { allowedCpus } from "../../cli/_pin_cpu.ts";
import { runCli } from "./_run.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
/** `up` on the loopback driver, the value of `--cpu` to follow. */
const UP_ON_CPU = ["up", "--driver", "loopback", "--address", "10.0.0.2/24", "--cpu"];
/**
 * A gateway (no privileges: an in-memory LAN), the value of `--cpu` to
 * follow: a gateway flag after an interface's, where it still belongs to the gateway.
 */
const GATEWAY_ON_CPU = ["up", "--forward", "--lan", "lan0", "--address", "10.3.0.1/24", "--cpu"];

/** The `Cpus_allowed_list` of every thread of process `pid`, by thread id. */
function threadCpus(pid: number): Map<string, string> {
  const out = new Map<string, string>();
  for (const t of Deno.readDirSync(`/proc/${pid}/task`)) {
    try {
      const status = Deno.readTextFileSync(`/proc/${pid}/task/${t.name}/status`);
      out.set(t.name, /^Cpus_allowed_list:\s*(\S+)$/m.exec(status)?.[1] ?? "?");
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return out;
}

/**
 * Runs `cli.ts ARGS CPU` with CPU the last the process may use (on a
 * machine with several, a mask other than the default); once it printed a
 * line matching `ready`, every thread's mask must be that CPU alone.
 */
async function checkEveryThreadPinned(args: readonly string[], ready: RegExp): Promise<void> {
  const cpus = allowedCpus();
  assert.ok(cpus.length >= 1, "no Cpus_allowed_list in /proc/self/status");
  const cpu = cpus[cpus.length - 1]!;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT}cli.ts`, ...args, String(cpu)],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const kill = (signal: Deno.Signal) => {
    try {
      child.kill(signal);
    } catch {
      // It has exited already.
    }
  };
  const timer = setTimeout(() => kill("SIGKILL"), 30_000);
  const reader = child.stdout.getReader();
  try {
    let text = "";
    while (!text.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    assert.match(text, ready);
    const threads = threadCpus(child.pid);
    assert.ok(threads.size >= 2, `threads: ${[...threads.keys()]}`);
    for (const [tid, list] of threads) assert.equal(list, String(cpu), `thread ${tid}`);
  } finally {
    // Stopped whatever the checks found: a failed check must not leave it running.
    kill("SIGTERM");
    await reader.cancel();
    await child.stderr.cancel();
    await child.status;
    clearTimeout(timer);
  }
}

/**
 * Each bad `--cpu` value after `args` must exit 2 with one line naming
 * `--cpu` and why; returns the lines.
 */
async function usageErrors(args: readonly string[]): Promise<string[]> {
  const beyond = Math.max(...allowedCpus()) + 1;
  const cases = [
    [String(beyond), /may run on CPUs/],
    ["one", /whole number/],
    ["1.5", /whole number/],
  ] as const;
  const out: string[] = [];
  for (const [value, why] of cases) {
    const r = await runCli([...args, value]);
    assert.equal(r.code, 2, r.stderr);
    const lines = r.stderr.split("\n").filter((l) => l !== "");
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /^cli\.ts up: --cpu/);
    assert.match(lines[0]!, why);
    assert.equal(r.stdout, "");
    out.push(lines[0]!);
  }
  return out;
}

Deno.test("up --cpu N: every thread runs on CPU N only", async () => {
  await checkEveryThreadPinned(UP_ON_CPU, /^ready eth0 10\.0\.0\.2\/24/);
});

Deno.test("up --cpu N as a gateway: every thread runs on CPU N only", async () => {
  await checkEveryThreadPinned(GATEWAY_ON_CPU, /^ready lan0 10\.3\.0\.1\/24\n/);
});

Deno.test("up --cpu: a CPU the process may not use, or not a number, is a usage error, in the same words as a gateway", async () => {
  assert.deepEqual(await usageErrors(GATEWAY_ON_CPU), await usageErrors(UP_ON_CPU));
  // Before the interfaces too: a gateway flag wherever it stands.
  const r = await runCli(["up", "--cpu", "one", "--lan", "lan0", "--address", "10.3.0.1/24"]);
  assert.equal(r.code, 2, r.stderr);
  assert.equal(
    r.stderr,
    'cli.ts up: --cpu must be a whole number, not "one" (see "cli.ts up --help")\n',
  );
});
