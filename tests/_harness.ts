/**
 * The integration-test harness: stacks on the loopback {@linkcode VirtualNetwork}
 * (a `ManualClock`, fixed seeds), pcap capture through `CaptureTap`, frame
 * builders, and gVisor-style composable frame checkers.
 *
 * - {@linkcode makeLan}: N hosts `10.0.0.1..N/24` on one learning switch.
 * - {@linkcode makeLink}: two hosts on one point-to-point link.
 * - {@linkcode makeHost}: one stack whose peer is the test: {@linkcode Host.inject}
 *   real frames, read what the stack sent back.
 * - {@linkcode Capture}: a pcap writer plus taps for any driver.
 * - Builders ({@linkcode ethernetFrame}, {@linkcode arpPacket},
 *   {@linkcode ipv4Packet}, {@linkcode icmpEcho}) compute their own
 *   checksums, independent of the stack's code.
 * - Checkers ({@linkcode checkEthernet}, {@linkcode checkArp},
 *   {@linkcode checkIpv4}, {@linkcode checkIcmp}) nest like gVisor's
 *   `checker.IPv4(t, b, checker.ICMPv4(...))`: each validates its header
 *   (lengths, checksums), then runs the inner checkers on its payload.
 *
 * Every environment has `close()` (idempotent: stacks, then the network) and
 * `finish()` (close, then assert that no packet buffer leaked).
 * {@linkcode withEnv} runs a test body and always closes.
 *
 * @example
 * ```ts
 * import { checkEthernet, checkIcmp, checkIpv4, makeLink, withEnv } from "./_harness.ts";
 * import assert from "node:assert/strict";
 * await withEnv(makeLink({ seed: 1, capture: true }), async (env) => {
 *   const reply = await env.run(() => env.a.ping("10.0.0.2"));
 *   assert.equal(reply.from, "10.0.0.2");
 *   const echo = env.capture!.frames().filter((f) =>
 *     checkEthernet({ etherType: 0x0800 }, checkIpv4({ src: "10.0.0.2" }, checkIcmp({ type: 0 })))
 *       .matches(f)
 *   );
 *   assert.equal(echo.length, 1);
 * });
 * ```
 *
 * @module
 */
export { PacketFlags } from "../stack/packet_flags.ts";
export { FIXTURE_PCAPS, pcapPath } from "./_fixtures.ts";
export * from "./_convert.ts";
export * from "./_test_plugins.ts";
export * from "./_capture.ts";
export * from "./_env.ts";
export * from "./_frames.ts";
export * from "./_checkers.ts";
export * from "./_async.ts";
export * from "./_pcaps.ts";
export * from "./_random.ts";
