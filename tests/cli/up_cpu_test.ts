/**
 * `up --cpu N` pins every thread of the process to CPU N (the JS thread,
 * V8's and the runtime's workers), before any device is opened; a CPU the
 * process may not use, or a value that is not a whole number, is a usage
 * error (exit 2, one line).
 */
import assert from "node:assert/strict";
import { allowedCpus } from "../../cli/_pin_cpu.ts";
import { runCli } from "./_run.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
/** `up` on the loopback driver, the value of `--cpu` to follow. */
const UP_ON_CPU = ["up", "--driver", "loopback", "--address", "10.0.0.2/24", "--cpu"];

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

Deno.test("up --cpu N: every thread runs on CPU N only", async () => {
  const cpus = allowedCpus();
  assert.ok(cpus.length >= 1, "no Cpus_allowed_list in /proc/self/status");
  // The last CPU, so that on a machine with several the mask differs from the default.
  const cpu = cpus[cpus.length - 1]!;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT}cli.ts`, ...UP_ON_CPU, String(cpu)],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
  try {
    const reader = child.stdout.getReader();
    let text = "";
    while (!text.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    assert.match(text, /^ready eth0 10\.0\.0\.2\/24/);
    const threads = threadCpus(child.pid);
    assert.ok(threads.size >= 2, `threads: ${[...threads.keys()]}`);
    for (const [tid, list] of threads) assert.equal(list, String(cpu), `thread ${tid}`);
    child.kill("SIGTERM");
    reader.releaseLock();
    await child.stdout.cancel();
  } finally {
    clearTimeout(timer);
    await child.stderr.cancel();
    await child.status;
  }
});

Deno.test("up --cpu: a CPU the process may not use, or not a number, is a usage error", async () => {
  const beyond = Math.max(...allowedCpus()) + 1;
  for (
    const [value, why] of [[String(beyond), /may run on CPUs/], ["one", /whole number/], [
      "1.5",
      /whole number/,
    ]] as const
  ) {
    const r = await runCli([...UP_ON_CPU, value]);
    assert.equal(r.code, 2, r.stderr);
    const lines = r.stderr.split("\n").filter((l) => l !== "");
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /^cli\.ts up: --cpu/);
    assert.match(lines[0]!, why);
  }
});
