/**
 * What the IPv6 interop tests over TUN and TAP share (`ipv6_tun_test.ts`,
 * `ipv6_tap_test.ts`): the addresses, Linux's end of the link, the 100 MB
 * `nc -6` transfer into a discard listener, and the capture checks that
 * pull fields out of a clean capture.
 *
 * @module
 */
import assert from "node:assert/strict";
import { ip } from "../../cli/_netns.ts";
import { tsharkProblems, tsharkRows } from "../_tshark.ts";
import type { DeviceHarness } from "./_netns.ts";

export { eventually } from "../services/_interop.ts";

/** The Linux end. */
export const LINUX6 = "fd00::1";
/** The stack. */
export const STACK6 = "fd00::2";

/**
 * Gives Linux fd00::1/64 without DAD (TUN is NOARP; on TAP only the stack's
 * DAD is under test) and the stack fd00::2/64.
 */
export async function addIpv6Pair(h: DeviceHarness): Promise<void> {
  await ip(["-6", "addr", "add", `${LINUX6}/64`, "dev", h.dev.name, "nodad"], {
    netns: h.netns,
  });
  h.stack.addAddress(h.stack.interfaces.list()[0]!.index, `${STACK6}/64`);
  h.runner.kick();
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
