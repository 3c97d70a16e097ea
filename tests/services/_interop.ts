/**
 * Interop harness for the services: `cli.ts up` (through {@linkcode runUp},
 * with the registry of plugins/services/) on a real TUN or TAP device inside
 * a fresh network namespace, Linux at 10.0.0.1 and the virtual host at
 * 10.0.0.2, tcpdump on the device for the whole test, and tshark checking
 * the capture afterwards. Each call makes and deletes its own namespace;
 * every command runs under `timeout`, and the whole run is aborted after
 * `limitSeconds`.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { Stack } from "../../mod.ts";
import { runUp } from "../../cli/up.ts";
import { addNetns, type CommandResult, deleteNetns, netnsExec } from "../../cli/_netns.ts";
import {
  CAPTURE_LOSS_WARNINGS,
  INTEROP_NEEDS,
  QUEUE_LOSS_WARNINGS,
  queueDrops,
  startTcpdump,
  type Tcpdump,
  uniqueNetnsName,
} from "../interop/_netns.ts";
import type { Requirement } from "../_require.ts";
import { assertTsharkClean, type TsharkOptions } from "../_tshark.ts";
import { SERVICES } from "../../plugins/services/mod.ts";
import { FLOW_CONTROL_WARNINGS } from "./_services.ts";

/** The Linux end. */
export const LINUX = "10.0.0.1";
/** The virtual host. */
export const HOST = "10.0.0.2";

/**
 * What the service interop tests need: {@linkcode INTEROP_NEEDS} plus the
 * Linux clients they run (use with `gated` from `../_require.ts`).
 */
export const SERVICE_INTEROP_NEEDS: readonly Requirement[] = [
  ...INTEROP_NEEDS,
  "curl",
  "nc",
  "socat",
];

/** What a {@linkcode withUp} body gets. */
export interface UpHarness {
  /** The namespace Linux's end is in. */
  readonly netns: string;
  /** The virtual host's stack. */
  readonly stack: Stack;
  /** The device's name. */
  readonly ifname: string;
  /** Runs a command in the namespace, killed after `seconds`. */
  exec(command: readonly string[], seconds: number): Promise<CommandResult>;
  /** Runs a shell command line in the namespace, killed after `seconds`. */
  sh(line: string, seconds: number): Promise<CommandResult>;
}

/** Options of {@linkcode withUp}. */
export interface WithUpOptions {
  /** Device kind. */
  readonly driver: "tun" | "tap";
  /** Services, comma separated (default all). */
  readonly serve?: string;
  /** The namespace name's prefix (default "svc"). */
  readonly netnsPrefix?: string;
  /** Link MTU (both ends). */
  readonly mtu?: number;
  /** More `up` flags. */
  readonly args?: readonly string[];
  /** tcpdump's snap length (default 262144: whole packets; headers only: 128). */
  readonly snaplen?: number;
  /** tshark: warnings expected here besides flow control (a RST test: `/Connection reset/`). */
  readonly tshark?: TsharkOptions;
  /** Abort the whole run after this many seconds (default 120). */
  readonly limitSeconds?: number;
  /**
   * tun: keep `up`'s default offloads (default false: `--no-offload`). With
   * checksum offload the Linux-side tcpdump records Linux's packets before
   * their checksums are filled in, which tshark reports as bad.
   */
  readonly offload?: boolean;
}

/** What {@linkcode withUp} returns. */
export interface UpResult {
  /** `up`'s exit code. */
  readonly code: number;
  /** `up`'s standard output (ready line, counters at the end). */
  readonly out: readonly string[];
  /** `up`'s standard error. */
  readonly err: readonly string[];
}

/**
 * Runs `up` on a fresh device in a fresh namespace, `body` once it is ready,
 * then stops it, deletes the namespace, checks the capture with tshark and
 * runs `afterCapture(pcapPath)` (e.g. to look for an ICMP error in it).
 */
export async function withUp(
  options: WithUpOptions,
  body: (h: UpHarness) => Promise<void>,
  afterCapture?: (pcap: string) => Promise<void>,
): Promise<UpResult> {
  const netns = uniqueNetnsName(options.netnsPrefix ?? "svc");
  const ifname = options.driver === "tun" ? "tun0" : "tap0";
  const pcap = await Deno.makeTempFile({ prefix: `${netns}-`, suffix: ".pcap" });
  await addNetns(netns);
  const out: string[] = [];
  const err: string[] = [];
  const stop = new AbortController();
  const seconds = options.limitSeconds ?? 120;
  let limit: ReturnType<typeof setTimeout> | undefined;
  const overtime = new Promise<never>((_, reject) => {
    limit = setTimeout(() => {
      reject(new Error(`the test took more than ${seconds} s`));
      stop.abort();
    }, seconds * 1000);
  });
  overtime.catch(() => {}); // also seen through the race below
  let failure: unknown = undefined;
  let code = -1;
  let dropped = 0;
  let queueDropped = 0;
  try {
    code = await runUp(
      [
        "--driver",
        options.driver,
        "--ifname",
        ifname,
        "--netns",
        netns,
        "--address",
        `${HOST}/24`,
        "--peer-address",
        `${LINUX}/24`,
        "--serve",
        options.serve ?? Object.keys(SERVICES).join(","),
        ...(options.mtu !== undefined ? ["--mtu", String(options.mtu)] : []),
        ...(options.driver === "tun" && !options.offload ? ["--no-offload"] : []),
        ...(options.args ?? []),
      ],
      {
        services: SERVICES,
        handleSignals: false,
        signal: stop.signal,
        print: (l) => out.push(l),
        printError: (l) => err.push(l),
        onReady: async (stack) => {
          let dump: Tcpdump | null = null;
          try {
            dump = await startTcpdump(netns, ifname, pcap, {
              bufferKib: 65536,
              snaplen: options.snaplen ?? 262144,
            });
            await Promise.race([
              body({
                netns,
                stack,
                ifname,
                exec: (command, s) => netnsExec(netns, command, s),
                sh: (line, s) => netnsExec(netns, ["sh", "-c", line], s),
              }),
              overtime,
            ]);
          } catch (e) {
            failure = e;
          } finally {
            dropped = (await dump?.stop()) ?? 0;
            queueDropped = await queueDrops(netns, ifname);
            stop.abort();
          }
        },
      },
    );
  } finally {
    clearTimeout(limit);
    await deleteNetns(netns);
  }
  try {
    if (failure !== undefined) throw failure;
    assert.equal(code, 0, `up failed:\n${err.join("\n")}`);
    // A full receive window is flow control doing its job, not a bad packet;
    // segments tcpdump itself dropped (it says how many) are holes in the file only.
    if (dropped > 0) {
      // deno-lint-ignore no-console
      console.log(`  tcpdump dropped ${dropped} packets: "not captured" warnings allowed`);
    }
    if (queueDropped > 0) {
      // deno-lint-ignore no-console
      console.log(
        `  ${ifname}'s queue dropped ${queueDropped} frames: their retransmissions allowed`,
      );
    }
    await assertTsharkClean(pcap, {
      ...options.tshark,
      allowWarnings: [
        ...FLOW_CONTROL_WARNINGS,
        ...(dropped > 0 ? CAPTURE_LOSS_WARNINGS : []),
        ...(queueDropped > 0 ? QUEUE_LOSS_WARNINGS : []),
        ...(options.tshark?.allowWarnings ?? []),
      ],
    });
    await afterCapture?.(pcap);
  } finally {
    await Deno.remove(pcap);
  }
  return { code, out, err };
}

/** Polls `check` every 20 ms until it is true or `seconds` pass; returns its last value. */
export async function eventually(check: () => boolean, seconds: number): Promise<boolean> {
  const end = Date.now() + seconds * 1000;
  while (!check() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  return check();
}
