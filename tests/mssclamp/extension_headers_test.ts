/**
 * mssclamp finds TCP behind IPv6 extension headers (the forward hook's
 * `pkt.l4`): a forwarded SYN with a Destination Options header is clamped
 * like one without, its checksum still right. One host forwarding IPv6
 * back out of its raw-IP link to fd99::/64 via fd00::2.
 */
import assert from "node:assert/strict";
import { ipv6Packet, makeHost } from "../_harness.ts";
import { mssClampPlugin } from "../../stack/protocols/mssclamp/mod.ts";
import { IpAddress } from "../../stack/wire/ip_address.ts";
import { sumBytes } from "../../stack/wire/checksum.ts";
import { pseudoHeaderSum } from "../../stack/ip/pseudo_header.ts";

const TCP = 6, DEST = 60;
const k = (s: string) => IpAddress.parse(s)!.key;
const PEER = "fd00::2", FAR = "fd99::5";

/** A SYN PEER → FAR announcing MSS 1460 behind `chain` (the fixed header names `first`). */
function syn(first: number, chain: number[]): Uint8Array {
  const tcp = [0x30, 0x39, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x60, 0x02, 0xff, 0xff, 0, 0, 0, 0]
    .concat([2, 4, 0x05, 0xb4]);
  return ipv6Packet({ src: PEER, dst: FAR, nextHeader: first, chain, protocol: TCP }, tcp);
}

for (
  const [name, first, chain] of [
    ["no extension header", TCP, []],
    ["a Destination Options header", DEST, [TCP, 0, 1, 4, 0, 0, 0, 0]],
  ] as const
) {
  Deno.test(`mssclamp IPv6: a forwarded SYN with ${name} is clamped, checksum kept right`, () => {
    const h = makeHost({
      linkType: 101,
      addresses: ["fd00::1/64"],
      withoutPlugins: ["mld"],
      extraPlugins: [mssClampPlugin],
      plugins: { mssclamp: { mss: 1000 } },
    });
    h.stack.setForwarding(true, 6);
    h.stack.addRoute("fd99::/64", { gateway: PEER });
    const out = h.inject(syn(first, [...chain]));
    assert.equal(out.length, 1, "forwarded");
    const f = out[0]!;
    const at = 40 + chain.length;
    assert.equal((f[at + 22]! << 8) | f[at + 23]!, 1000);
    const tcpLength = f.length - at;
    assert.equal(
      sumBytes(f.subarray(at), pseudoHeaderSum(k(PEER), k(FAR), TCP, tcpLength)),
      0xffff,
    );
    assert.equal(h.counter("mssclamp.clamped"), 1);
    h.finish();
  });
}
