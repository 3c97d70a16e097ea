/**
 * ICMPv6 errors are rate limited per destination as well as for the whole
 * stack (RFC 4443 §2.4 (f)), as ICMPv4 errors are here and as Linux does
 * (`icmpv6_xrlim_allow`: a bucket per peer, burst 6, over the global
 * `icmp_msgs_per_sec`): one chatty or spoofed source cannot take every
 * error the stack may send, nor aim a thousand a second at one victim.
 *
 * Errors are provoked with packets of an unknown next header (Parameter
 * Problem code 1, RFC 8200 §4), from neighbours the stack knows statically.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { NdpService } from "../../mod.ts";
import { IpAddress } from "../../stack/wire/ip_address.ts";
import { ethernetFrame, type Host, mac, makeHost } from "../_harness.ts";

const SECOND = 1_000_000;
const PEER_MAC = "02:00:00:00:00:09";

/** A host at fd00::1/64 whose neighbours fd00::100… all have PEER_MAC, DAD done. */
function host(): Host {
  const h = makeHost({ addresses: ["fd00::1/64"], withoutPlugins: ["mld"] });
  h.runFor(3 * SECOND);
  h.take();
  return h;
}

/** An IPv6 packet from `src` to fd00::1 with next header 143 (none such). */
function unknownNextHeader(h: Host, src: string): Uint8Array {
  const key = IpAddress.parse(src)!;
  h.stack.service<NdpService>("neighbor.ipv6")!.addStatic(h.iface.index, key.key, mac(PEER_MAC));
  const p = new Uint8Array(48);
  p[0] = 0x60;
  p[5] = 8;
  p[6] = 143;
  p[7] = 64;
  p.set(key.bytes(), 8);
  p.set(IpAddress.parse("fd00::1")!.bytes(), 24);
  return ethernetFrame({ dst: "02:00:00:00:00:01", src: PEER_MAC, etherType: 0x86dd }, p);
}

/** How many Parameter Problems the stack sends for `n` such packets from `src` at this instant. */
function errorsFor(h: Host, src: string, n: number): number {
  let errors = 0;
  for (let i = 0; i < n; i++) {
    for (const f of h.inject(unknownNextHeader(h, src))) {
      if (f[12] === 0x86 && f[13] === 0xdd && f[14 + 6] === 58 && f[14 + 40] === 4) errors++;
    }
  }
  return errors;
}

Deno.test("icmpv6 errors: 6 in a burst to one destination, then one a second", () => {
  const h = host();
  assert.equal(errorsFor(h, "fd00::100", 10), 6);
  assert.equal(h.counter("icmpv6.tx.rate_limited"), 4);
  assert.equal(errorsFor(h, "fd00::101", 10), 6, "another destination has its own bucket");
  h.runFor(SECOND);
  assert.equal(errorsFor(h, "fd00::100", 3), 1);
  assert.equal(h.counter("ipv6.rx.unknown_next_header"), 23);
  h.finish();
});

Deno.test("icmpv6 errors: the whole stack still sends at most 50 at once", () => {
  const h = host();
  let errors = 0;
  for (let i = 0; i < 60; i++) errors += errorsFor(h, `fd00::1:${i.toString(16)}`, 1);
  assert.equal(errors, 50);
  assert.equal(h.counter("icmpv6.tx.rate_limited"), 10);
  h.finish();
});
