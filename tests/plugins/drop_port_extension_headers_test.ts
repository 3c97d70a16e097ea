/**
 * `plugins/drop_port` against IPv6 TCP and UDP behind extension headers
 * (Hop-by-Hop, Destination Options): blocked as the same datagram without
 * them, the sender told administratively prohibited (RFC 4443 §3.1); a
 * port not blocked still answers, so the test can fail. One host on a
 * raw-IP link; the test is its peer.
 */
import assert from "node:assert/strict";
import { ipv6Packet, makeHost } from "../_harness.ts";
import { plugin as dropPort } from "../../plugins/drop_port/mod.ts";

const HBH = 0, TCP = 6, UDP = 17, DEST = 60;
const US = "fd00::1", PEER = "fd00::2";

/** An 8-byte Hop-by-Hop or Destination Options header naming `next` (PadN only). */
const options = (next: number) => [next, 0, 1, 4, 0, 0, 0, 0];

/** PEER → US: the fixed header names `first`, then `chain`, then a TCP SYN or UDP datagram to `port`. */
function datagram(first: number, chain: number[], proto: number, port: number): Uint8Array {
  const upper = proto === TCP
    ? [
      0x30,
      0x39,
      port >> 8,
      port & 0xff,
      0,
      0,
      0,
      1,
      0,
      0,
      0,
      0,
      0x50,
      0x02,
      0xff,
      0xff,
      0,
      0,
      0,
      0,
    ]
    : [0x30, 0x39, port >> 8, port & 0xff, 0, 10, 0, 0, 0x68, 0x69];
  return ipv6Packet({ src: PEER, dst: US, nextHeader: first, chain, protocol: proto }, upper);
}

function host() {
  return makeHost({
    linkType: 101,
    addresses: [`${US}/64`],
    withoutPlugins: ["mld"],
    extraPlugins: [dropPort],
    plugins: { drop_port: { port: 9 } },
  });
}

/** The ICMPv6 type and code of an answer, or the TCP flags as "tcp <flags>". */
function answer(out: Uint8Array[]): string {
  assert.equal(out.length, 1, "one answer");
  const a = out[0]!;
  if (a[6] === 58) return `icmpv6 ${a[40]}/${a[41]}`;
  if (a[6] === TCP) return `tcp ${a[53]!.toString(16)}`;
  return `next header ${a[6]}`;
}

const CHAINS: [string, number, (next: number) => number[]][] = [
  ["Hop-by-Hop", HBH, (next) => options(next)],
  ["Destination Options", DEST, (next) => options(next)],
  ["Hop-by-Hop + Destination Options", HBH, (next) => [...options(DEST), ...options(next)]],
];

for (const [name, first, chain] of CHAINS) {
  Deno.test(`drop_port: IPv6 TCP behind ${name} to the port is blocked; to another port it passes`, () => {
    const h = host();
    const blocked = answer(h.inject(datagram(first, chain(TCP), TCP, 9)));
    assert.equal(blocked, "icmpv6 1/1", "administratively prohibited");
    assert.equal(h.counter("drop_port.input.blocked"), 1);
    // Port 7: nothing listens, TCP answers RST+ACK itself.
    assert.equal(answer(h.inject(datagram(first, chain(TCP), TCP, 7))), "tcp 14");
    assert.equal(h.counter("drop_port.input.blocked"), 1);
    h.finish();
  });

  Deno.test(`drop_port: IPv6 UDP behind ${name} to the port is blocked; to another port it passes`, () => {
    const h = host();
    assert.equal(answer(h.inject(datagram(first, chain(UDP), UDP, 9))), "icmpv6 1/1");
    assert.equal(h.counter("drop_port.input.blocked"), 1);
    // Port 7: no socket, UDP answers port unreachable.
    assert.equal(answer(h.inject(datagram(first, chain(UDP), UDP, 7))), "icmpv6 1/4");
    assert.equal(h.counter("drop_port.input.blocked"), 1);
    h.finish();
  });
}
