/**
 * Issue 16: a fuzz harness per `stack/wire` parser. Each gets random bytes
 * and mutations of a valid header of its own: `check()` must return a view
 * or a drop reason, every accessor of a view it returns must stay in bounds
 * (the view contract), and `parse…()`, `toString()`, the option readers,
 * the IPv6 extension walker and `decodeFrame` must return, never throw.
 *
 * The normal suite runs {@linkcode DEFAULT_CASES} cases per parser; more
 * with `FUZZ_CASES` (and `FUZZ_SEED`):
 *
 * ```sh
 * FUZZ_CASES=1000000 deno test -A tests/hardening/wire_fuzz_test.ts
 * ```
 *
 * @module
 */
import assert from "node:assert/strict";
import { fuzzSettings, prng } from "./_fuzz.ts";
import { ArpPacket, parseArp } from "../../stack/wire/arp.ts";
import { EthernetFrame, parseEthernet } from "../../stack/wire/ethernet.ts";
import { Icmpv4Packet, parseIcmpv4 } from "../../stack/wire/icmpv4.ts";
import { Ipv4Packet, parseIpv4 } from "../../stack/wire/ipv4.ts";
import {
  checkIpv4Options,
  Ipv4OptionOffsets,
  parseIpv4Options,
} from "../../stack/wire/ipv4_options.ts";
import { walkIpv6 } from "../../stack/wire/ipv6_ext.ts";
import { parseTcp, TcpPacket } from "../../stack/wire/tcp.ts";
import { readTcpOption } from "../../stack/wire/tcp_options.ts";
import { parseUdp, UdpPacket } from "../../stack/wire/udp.ts";
import { decodeFrame } from "../../stack/wire/decode.ts";

/** Cases per parser in the normal suite. */
const DEFAULT_CASES = 5000;

const { cases: CASES, seed: SEED } = fuzzSettings(DEFAULT_CASES);

function hex(s: string): Uint8Array {
  return new Uint8Array(s.match(/../g)!.map((b) => parseInt(b, 16)));
}

/** Valid headers to mutate, one per parser. */
const TEMPLATES = {
  ethernet: hex("020000000001020000000009810000050800450000140000000040fd0000"),
  arp: hex("0001080006040001020000000009" + "0a000009" + "000000000000" + "0a000001"),
  ipv4: hex("4600001c000140004001000094040000" + "0a0000090a000001" + "0800f7ff00000000"),
  tcp: hex("3039005000000001000000027012ffff00000000" + "020405b4010303070402080a0000000100000000"),
  udp: hex("3039003500100000" + "0102030405060708"),
  icmp: hex("0304000000000240" + "4500001c12340000400654a60a0000010a000009115c15b3deadbeef"),
  ipv4Options: hex("0107040000000000" + "440c0501" + "0000000000000000" + "9404000000"),
  ipv6: hex(
    "6000000000140000" + "fd000000000000000000000000000001" +
      "fd000000000000000000000000000002" + "3b00010400000000" + "0000000000000000",
  ),
};

function variant(template: Uint8Array, r: () => number): Uint8Array {
  if (r() < 0.2) {
    const b = new Uint8Array(Math.floor(r() * (template.length + 16)));
    for (let i = 0; i < b.length; i++) b[i] = Math.floor(r() * 256);
    return b;
  }
  let b = template.slice();
  const n = 1 + Math.floor(r() * 4);
  for (let k = 0; k < n && b.length > 0; k++) {
    const at = Math.floor(r() * b.length);
    const op = Math.floor(r() * 5);
    if (op === 0) b[at]! ^= 1 << Math.floor(r() * 8);
    else if (op === 1) b[at] = [0, 1, 4, 5, 15, 0x40, 0x7f, 0x80, 0xff][Math.floor(r() * 9)]!;
    else if (op === 2) b[at] = Math.floor(r() * 256);
    else if (op === 3) b = b.subarray(0, at);
    else {
      const g = new Uint8Array(b.length + 1 + Math.floor(r() * 8));
      g.set(b);
      b = g;
    }
  }
  return b;
}

/** Reads every getter of a view and its `toString()` (none may throw). */
function touch(view: object): void {
  for (
    let proto = Object.getPrototypeOf(view);
    proto !== Object.prototype && proto !== null;
    proto = Object.getPrototypeOf(proto)
  ) {
    for (const [k, d] of Object.entries(Object.getOwnPropertyDescriptors(proto))) {
      if (d.get !== undefined) (view as Record<string, unknown>)[k];
    }
  }
  String(view);
}

function fuzz(name: string, template: Uint8Array, body: (b: Uint8Array) => void): void {
  Deno.test(`wire fuzz ${name}: ${CASES} cases (seed ${SEED}) never throw or read out of bounds`, () => {
    const r = prng(SEED);
    for (let i = 0; i < CASES; i++) {
      const b = variant(template, r);
      try {
        body(b);
      } catch (e) {
        const bytes = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
        assert.fail(`${name} case ${i}: ${bytes}: ${e instanceof Error ? e.stack : e}`);
      }
    }
  });
}

const PSEUDO = { src: 0x0a000009, dst: 0x0a000001 };

fuzz("EthernetFrame", TEMPLATES.ethernet, (b) => {
  const v = EthernetFrame.check(b);
  if (typeof v === "string") return;
  touch(v);
  touch(parseEthernet(v));
});

fuzz("ArpPacket", TEMPLATES.arp, (b) => {
  const v = ArpPacket.check(b);
  if (typeof v === "string") return;
  touch(v);
  const r = parseArp(v);
  if (typeof r !== "string") touch(r);
});

fuzz("Ipv4Packet", TEMPLATES.ipv4, (b) => {
  const v = Ipv4Packet.check(b);
  if (typeof v === "string") return;
  touch(v);
  for (const verifyChecksum of [true, false]) {
    const r = parseIpv4(v, { verifyChecksum });
    if (typeof r !== "string") touch(r);
  }
});

fuzz("TcpPacket and readTcpOption", TEMPLATES.tcp, (b) => {
  const v = TcpPacket.check(b);
  if (typeof v === "string") return;
  touch(v);
  const r = parseTcp(v, PSEUDO, { verifyChecksum: false });
  if (typeof r !== "string") touch(r);
  const opts = v.options;
  for (let at = 0, n = 0; n < 64; n++) {
    const o = readTcpOption(opts, at);
    if (typeof o === "string") break;
    assert.ok(o.next > at && o.next <= opts.length, "option reader moves forward, in bounds");
    at = o.next;
  }
});

fuzz("UdpPacket", TEMPLATES.udp, (b) => {
  const v = UdpPacket.check(b);
  if (typeof v === "string") return;
  touch(v);
  const r = parseUdp(v, { family: 4, ...PSEUDO }, { verifyChecksum: false });
  if (typeof r !== "string") touch(r);
});

fuzz("Icmpv4Packet", TEMPLATES.icmp, (b) => {
  const v = Icmpv4Packet.check(b);
  if (typeof v === "string") return;
  touch(v);
  const r = parseIcmpv4(v, { verifyChecksum: false });
  if (typeof r !== "string") touch(r);
});

fuzz("IPv4 options", TEMPLATES.ipv4Options, (b) => {
  checkIpv4Options(b, 0, b.length, new Ipv4OptionOffsets());
  parseIpv4Options(b);
});

fuzz("walkIpv6", TEMPLATES.ipv6, (b) => {
  walkIpv6(b);
});

fuzz("decodeFrame", TEMPLATES.ethernet, (b) => {
  for (const linkType of [1, 101, 228, 229]) decodeFrame(b, linkType);
  decodeFrame(TEMPLATES.icmp.length <= b.length ? b : TEMPLATES.icmp, 228);
});
