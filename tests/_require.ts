/**
 * What a test needs from the machine, and what happens when it is missing.
 *
 * A test that depends on something outside the repository (a Linux tool,
 * root, `/dev/net/tun`, `ip netns`) declares it with {@linkcode gated}:
 *
 * - when everything is there, the test runs as written;
 * - under CI (`CI=true` in the environment) a missing requirement makes the
 *   test **fail** with a one-line reason: a test that cannot run is a
 *   failure, never a silent pass;
 * - elsewhere the test is ignored and the reason is printed once.
 *
 * A check that finds out only while running that it cannot work (a tool
 * missing halfway through) calls {@linkcode cannotCheck}: it throws under CI
 * and prints the reason once elsewhere.
 *
 * Captures are not requirements: they are in the repository
 * (`tests/fixtures/pcaps`), and a missing one fails.
 *
 * @example
 * ```ts
 * import { gated, missing } from "./_require.ts";
 * import assert from "node:assert/strict";
 * const def = gated(["tshark"], { name: "tshark reads a capture", fn: () => {} });
 * assert.equal(def.name, "tshark reads a capture");
 * assert.equal(typeof missing(["root"]), Deno.uid() === 0 ? "undefined" : "string");
 * ```
 *
 * @module
 */

/** Something a test may need from the machine. */
export type Requirement =
  | "linux"
  | "root"
  | "tun"
  | "netns"
  | "ffi"
  | "tshark"
  | "tcpdump"
  | "scapy"
  | "python3"
  | "nmap"
  | "hping3"
  | "iperf3"
  | "curl"
  | "socat"
  | "nc"
  | "ping"
  | "traceroute"
  | "arping"
  | "setpriv"
  | "python3"
  | "ethtool";

/**
 * Whether this run is under CI (`CI=true`), where a missing requirement fails.
 *
 * @example
 * ```ts
 * import { inCi } from "./_require.ts";
 * import assert from "node:assert/strict";
 * assert.equal(typeof inCi(), "boolean");
 * ```
 */
export function inCi(): boolean {
  try {
    return Deno.env.get("CI") === "true";
  } catch {
    return false; // no --allow-env: not a CI run (.ci/run uses --allow-all)
  }
}

/** Runs `cmd args`; undefined when it exits 0, else why not. */
function runs(cmd: string, args: readonly string[], install: string): string | undefined {
  try {
    const out = new Deno.Command(cmd, { args: [...args], stdout: "null", stderr: "null" })
      .outputSync();
    return out.success ? undefined : `\`${cmd} ${args.join(" ")}\` exited ${out.code} (${install})`;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return `no ${cmd} (install ${install})`;
    if (e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied) {
      return `running ${cmd} needs --allow-run (run with --allow-all)`;
    }
    throw e;
  }
}

/** Whether a tool exists at all (some exit non-zero for every harmless flag). */
function exists(cmd: string, args: readonly string[], install: string): string | undefined {
  const why = runs(cmd, args, install);
  return why === undefined || why.includes("exited") ? undefined : why;
}

function granted(name: "ffi" | "run" | "read" | "write" | "sys" | "env"): boolean {
  return Deno.permissions.querySync({ name }).state === "granted";
}

function probe(r: Requirement): string | undefined {
  switch (r) {
    case "linux":
      return Deno.build.os === "linux" ? undefined : `needs Linux, not ${Deno.build.os}`;
    case "ffi":
      return granted("ffi") ? undefined : "needs --allow-ffi (run with --allow-all)";
    case "root":
      if (Deno.build.os !== "linux") return `needs Linux, not ${Deno.build.os}`;
      for (const p of ["run", "read", "write", "sys"] as const) {
        if (!granted(p)) return `needs --allow-${p} (run with --allow-all)`;
      }
      return Deno.uid() === 0 ? undefined : "needs root (TUN/TAP devices, network namespaces)";
    case "tun":
      try {
        Deno.statSync("/dev/net/tun");
        return undefined;
      } catch {
        return "no /dev/net/tun (load the tun module)";
      }
    case "netns":
      return runs("ip", ["netns", "list"], "iproute2");
    case "tshark":
      return runs("tshark", ["--version"], "tshark");
    case "tcpdump":
      return runs("tcpdump", ["--version"], "tcpdump");
    case "scapy":
      return runs("/usr/bin/python3", ["-c", "import scapy.all"], "python3-scapy");
    case "python3":
      return runs("/usr/bin/python3", ["--version"], "python3");
    case "ethtool":
      return runs("ethtool", ["--version"], "ethtool");
    case "nmap":
      return runs("nmap", ["--version"], "nmap");
    case "hping3":
      return exists("hping3", ["--version"], "hping3");
    case "iperf3":
      return runs("iperf3", ["--version"], "iperf3");
    case "curl":
      return runs("curl", ["--version"], "curl");
    case "socat":
      return runs("socat", ["-V"], "socat");
    case "nc":
      return exists("nc", ["-h"], "netcat-openbsd");
    case "ping":
      return exists("ping", ["-V"], "iputils-ping");
    case "traceroute":
      return exists("traceroute", ["-V"], "traceroute");
    case "arping":
      return exists("arping", ["-V"], "iputils-arping");
    case "setpriv":
      return runs("setpriv", ["--version"], "util-linux");
  }
}

const probed = new Map<Requirement, string | undefined>();

/**
 * The first missing requirement of `reqs` as a one-line reason, or
 * undefined when all are there. Each requirement is probed once per process.
 */
export function missing(reqs: readonly Requirement[]): string | undefined {
  for (const r of reqs) {
    if (!probed.has(r)) probed.set(r, probe(r));
    const why = probed.get(r);
    if (why !== undefined) return `${r}: ${why}`;
  }
  return undefined;
}

const told = new Set<string>();

function tellOnce(line: string): void {
  if (told.has(line)) return;
  told.add(line);
  // deno-lint-ignore no-console
  console.log(line);
}

/**
 * `def` made to depend on `reqs`: unchanged when they are all there; else,
 * under CI, a test that fails with the reason; elsewhere, ignored (the
 * reason printed once).
 *
 * @example
 * ```ts
 * import { gated } from "./_require.ts";
 * Deno.test(gated(["linux"], { name: "runs on Linux", fn: () => {} }));
 * ```
 */
export function gated(reqs: readonly Requirement[], def: Deno.TestDefinition): Deno.TestDefinition {
  const why = missing(reqs);
  if (why === undefined) return def;
  if (inCi()) {
    return {
      ...def,
      fn: () => {
        throw new Error(`Cannot run under CI: ${why}`);
      },
    };
  }
  tellOnce(`ignoring tests that need ${why}`);
  return { ...def, ignore: true };
}

/**
 * Called where a running test finds it cannot make a check (a tool is
 * missing): throws under CI, else prints `what` and the reason once.
 *
 * @throws {Error} Under CI, always.
 * @example
 * ```ts
 * import { cannotCheck, inCi } from "./_require.ts";
 * import assert from "node:assert/strict";
 * if (inCi()) assert.throws(() => cannotCheck("the capture", "tshark: not installed"));
 * else cannotCheck("the capture", "tshark: not installed");
 * ```
 */
export function cannotCheck(what: string, why: string): void {
  if (inCi()) throw new Error(`Cannot check ${what} under CI: ${why}`);
  tellOnce(`not checking ${what}: ${why}`);
}
