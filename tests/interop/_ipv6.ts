/**
 * What the IPv6 interop tests over TUN and TAP share (`ipv6_tun_test.ts`,
 * `ipv6_tap_test.ts`): the addresses, Linux's end of the link, the 100 MB
 * `nc -6` transfer into a discard listener, and the capture checks that
 * pull fields out of a clean capture.
 *
 * @module
 */
import assert from "node:assert/strict";
import { ip, waitPeerIpv6Ready } from "../../cli/_netns.ts";
import { runTshark, tsharkProblems, tsharkRows } from "../_tshark.ts";
import type { DeviceHarness } from "./_netns.ts";

export { eventually } from "../services/_interop.ts";

/** The Linux end. */
export const LINUX6 = "fd00::1";
/** The stack. */
export const STACK6 = "fd00::2";

/**
 * Gives Linux fd00::1/64 without DAD (TUN is NOARP; on TAP only the stack's
 * DAD is under test) and the stack fd00::2/64, then waits until Linux
 * delivers to fd00::1 ({@linkcode waitLinuxIpv6Ready}).
 */
export async function addIpv6Pair(h: DeviceHarness): Promise<void> {
  await ip(["-6", "addr", "add", `${LINUX6}/64`, "dev", h.dev.name, "nodad"], {
    netns: h.netns,
  });
  h.stack.addAddress(h.stack.interfaces.list()[0]!.index, `${STACK6}/64`);
  h.runner.kick();
  await waitLinuxIpv6Ready(h.netns, h.dev.name, LINUX6);
}

/**
 * Waits (polling every 20 ms, at most `seconds`) until Linux in `netns`
 * delivers packets to `address` on `dev`: the address is listed and not
 * tentative, and its `local` route is in the local table. `ip -6 addr add`
 * returns before that route exists: even with `nodad`, Linux installs it from
 * its addrconf work queue (the DAD work finishing at once), which a loaded
 * machine runs late. Until then a packet to `address` takes the prefix route
 * and, forwarding off, is dropped (`Ip6InAddrErrors`): ping replies, echo
 * replies and UDP answers from the stack vanished (4 full-suite runs at load
 * 12-20). IPv4 adds its local route inside the `ip addr add` call itself.
 *
 * The check is `up`'s own ({@linkcode waitPeerIpv6Ready}).
 *
 * @throws {Error} when not ready in time, with what `ip` showed last.
 */
export function waitLinuxIpv6Ready(
  netns: string,
  dev: string,
  address: string,
  seconds = 10,
): Promise<void> {
  return waitPeerIpv6Ready(dev, address, { netns, seconds });
}

/** Wireshark's notes on a bulk transfer through a capture that keeps only headers. */
export const BULK_WARNINGS: readonly RegExp[] = [
  /^Previous segment\(s\) not captured/,
  /^ACKed segment that wasn't captured/,
  /^This frame is a \(suspected\) out-of-order segment/,
  /^TCP Zero Window segment/,
  /^TCP window specified by the receiver is now completely full/,
  /^TCP Zero Window Probe/,
  // Linux telling the stack it got a segment twice (RFC 2883): a retransmission
  // after a timer that fired late on a busy machine; TCP behaviour, not a fault.
  /^D-SACK Sequence$/,
  // A heuristic dissector (Thrift) guessing at random payload cut to the snap length.
  /^Not enough data to decode\.$/,
];

/** Asserts a bulk transfer's header-only capture has no problems beyond {@linkcode BULK_WARNINGS}. */
export async function assertBulkCaptureClean(file: string): Promise<void> {
  const r = await tsharkProblems(file, { allowWarnings: BULK_WARNINGS });
  assert.deepEqual(r.problems, [], `tshark finds problems in ${file}`);
}

/**
 * Asserts the capture is clean, then returns the `fields` of the packets
 * `filter` selects, one row of strings per packet (an empty field is "").
 */
export async function cleanCaptureRows(
  file: string,
  filter: string,
  fields: readonly string[],
): Promise<string[][]> {
  assert.deepEqual((await tsharkProblems(file)).problems, []);
  return await tsharkRows(file, filter, fields);
}

/**
 * Sends 100,000,000 bytes from Linux with `nc -6` into a discard listener
 * on the stack at fd00::2 port 9, asserts every byte arrived from fd00::1,
 * and prints the time it took over `link`.
 */
export async function ncIntoDiscard(h: DeviceHarness, link: string): Promise<void> {
  using listener = h.stack.listen({ hostname: STACK6, port: 9 });
  let bytes = 0;
  let peer = "";
  const discard = (async () => {
    const conn = await listener.accept();
    peer = conn.remoteAddr.hostname;
    const buf = new Uint8Array(65536);
    for (let n = await conn.read(buf); n !== null; n = await conn.read(buf)) bytes += n;
    conn.close();
  })();
  const t0 = performance.now();
  const r = await h.exec(
    ["sh", "-c", `head -c 100000000 /dev/zero | nc -6 -N -w 5 ${STACK6} 9`],
    120,
  );
  assert.equal(r.code, 0, `nc: ${r.code} ${r.stderr}`);
  await discard;
  const s = (performance.now() - t0) / 1000;
  assert.equal(bytes, 100_000_000);
  assert.equal(peer, LINUX6);
  // deno-lint-ignore no-console
  console.log(`  100 MB nc -6 → stack over ${link}: ${s.toFixed(2)} s`);
}

/**
 * Where a packet went missing, in a few lines for an assertion message: the
 * stack's non-zero counters, the device's I/O and the runner's state, Linux's
 * addresses, routes, neighbours, ICMPv6/IPv6 counters and device counters in
 * the namespace, and the last packets of the capture so far.
 */
export async function ipv6Diagnostics(h: DeviceHarness): Promise<string> {
  const run = async (cmd: string[]) => {
    const r = await h.exec(cmd, 5);
    return (r.stdout + r.stderr).trim();
  };
  const s = h.dev.stats;
  const dev = h.dev.name;
  const sys = (name: string) => `cat /sys/class/net/${dev}/statistics/${name}`;
  const lines = [
    `stack: ${h.stack.counterTable().trim().split("\n").map((l) => l.trim()).join("; ")}`,
    `io: rx ${s.rxPackets} tx ${s.txPackets} batches ${s.rxBatches} polls ${s.polls} ` +
    `rxErrors ${s.rxErrors} txErrors ${s.txErrors} errno ${s.lastErrno} ` +
    `closing ${h.dev.closing} error ${h.dev.error?.message ?? "none"}`,
    `runner: running ${h.runner.running} polls ${h.runner.polls} wakeups ${h.runner.wakeups} ` +
    `errors ${h.runner.errors} next ${h.runner.msUntilWake().toFixed(1)} ms`,
    `linux addr: ${
      (await run(["ip", "-6", "-o", "addr", "show", "dev", dev])).replace(/\s+/g, " ")
    }`,
    `linux route: ${
      (await run(["ip", "-6", "route", "show", "table", "all"])).split("\n").join("; ")
    }`,
    `linux neigh: ${(await run(["ip", "-6", "neigh"])).split("\n").join("; ")}`,
    `linux ${dev}: ${await run([
      "sh",
      "-c",
      `echo rx $(${sys("rx_packets")}) tx $(${sys("tx_packets")}) ` +
      `tx_dropped $(${sys("tx_dropped")}) rx_dropped $(${sys("rx_dropped")}) ` +
      `disable_ipv6 $(cat /proc/sys/net/ipv6/conf/${dev}/disable_ipv6) ` +
      `flags $(cat /sys/class/net/${dev}/flags) oper $(cat /sys/class/net/${dev}/operstate)`,
    ])}`,
    `linux nstat: ${
      (await run(["nstat", "-az"])).split("\n")
        .filter((l) => /^(Ip6|Icmp6)/.test(l) && !/\s0\s/.test(l))
        .map((l) => l.split(/\s+/).slice(0, 2).join(" ")).join("; ")
    }`,
  ];
  if (h.pcap !== "") {
    const frames = await runTshark(h.pcap, []).catch((e) => `tshark: ${e}`);
    lines.push(`capture (last 20):\n${frames.trim().split("\n").slice(-20).join("\n")}`);
  }
  return lines.join("\n");
}

/**
 * Runs `fn`, and when it throws, rethrows with {@linkcode ipv6Diagnostics}
 * appended to the message, so a CI log says where the packet was lost.
 */
export async function withIpv6Diagnostics(
  h: DeviceHarness,
  fn: () => Promise<void>,
): Promise<void> {
  try {
    await fn();
  } catch (e) {
    if (e instanceof Error) {
      const more = await ipv6Diagnostics(h).catch((d) => `(diagnostics failed: ${d})`);
      e.message += `\n--- diagnostics ---\n${more}`;
    }
    throw e;
  }
}
