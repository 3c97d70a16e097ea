/**
 * Hostile IPv6 extension header chains against the two walks of
 * `stack/wire/ipv6_chain.ts` and against the plugins that read what the
 * hook points are told of the upper layer (`pkt.proto`, `pkt.l4`):
 * conntrack, mssclamp, nptv6 and drop_port on a router.
 *
 * Chains are built from Hop-by-Hop, Routing, Fragment (first, later,
 * atomic), Destination Options and AH headers before TCP, UDP, ICMPv6, ESP,
 * No Next Header or anything; options include zero-length ones, runs of
 * padding, Router Alert and Jumbo Payload; payload lengths are right, 0 (a
 * jumbogram) or wrong; half the packets are then mutated.
 *
 * The walks: never throw; agree with a model of `ipv6_find_hdr()` written
 * here; read nothing past `end` (the bytes after it are changed and the
 * walk must not notice); what they report stays inside the packet; where a
 * destination accepts a packet, the hooks are told the same upper layer.
 *
 * The router: nothing escapes `inject`, some counter moves for every
 * packet, no plugin faults, the buffers and the connection table stay
 * bounded, and a forwarded TCP, UDP or ICMPv6 packet whose checksum was
 * right still has a right checksum after mssclamp and nptv6 rewrote it.
 *
 * ```sh
 * FUZZ_CASES=200000 FUZZ_SEED=7 deno test -A tests/hardening/ipv6_upper_fuzz_test.ts
 * ```
 *
 * @module
 */
import assert from "node:assert/strict";
import { conntrackPlugin, mssClampPlugin, nptv6Plugin } from "../../mod.ts";
import { plugin as dropPortPlugin } from "../../plugins/drop_port/mod.ts";
import {
  findIpv6Upper,
  IPV6_CHAIN_PROBLEMS,
  Ipv6Chain,
  walkIpv6Chain,
} from "../../stack/wire/ipv6_chain.ts";
import { sumBytes } from "../../stack/wire/checksum.ts";
import { kernelOf } from "../../stack/stack.ts";
import { IpAddress } from "../../stack/wire/ip_address.ts";
import { makeHost } from "../_harness.ts";
import { fuzzSettings, mutate, prng } from "./_fuzz.ts";

const { cases: CASES, seed: SEED } = fuzzSettings(3000);

type Rand = () => number;
const int = (r: Rand, n: number) => Math.floor(r() * n);
const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

const HBH = 0, ROUTING = 43, FRAGMENT = 44, DEST = 60, AH = 51, ESP = 50, NONE = 59;
const TCP = 6, UDP = 17, ICMPV6 = 58;

/** The option area (`len` bytes) of a Hop-by-Hop or Destination Options header. */
function optionArea(r: Rand, len: number): number[] {
  const out: number[] = [];
  while (out.length < len) {
    const left = len - out.length;
    const k = int(r, 8);
    if (k === 0 || left < 2) out.push(0); // Pad1
    else if (k === 1) out.push(1, 0); // PadN of nothing
    else if (k === 2) out.push(int(r, 4) === 0 ? 0x3e : 0x1e, 0); // zero-length, skippable
    else if (k === 3 && left >= 4) out.push(5, 2, 0, int(r, 3)); // Router Alert
    else if (k === 4 && left >= 6) out.push(0xc2, 4, 0, 1, 0, 0); // Jumbo Payload
    else if (k === 5) out.push([0x41, 0x81, 0xc1][int(r, 3)]!, 0); // discard, ICMP, ICMP unless multicast
    else {
      const n = Math.min(left - 2, int(r, 6));
      out.push(1, n);
      for (let i = 0; i < n; i++) out.push(int(r, 10) === 0 ? 1 : 0);
    }
  }
  return out.slice(0, len);
}

/** One extension header of kind `nh` naming `next`. */
function extension(r: Rand, nh: number, next: number): number[] {
  if (nh === FRAGMENT) {
    const offset = [0, 0, 1, 8, 0x1fff][int(r, 5)]!;
    const more = r() < 0.5 ? 1 : 0;
    return [next, 0, offset >> 5, ((offset & 0x1f) << 3) | more, 0, 0, 0, int(r, 4)];
  }
  if (nh === AH) {
    const words = int(r, 4); // the length field counts 4-byte words, minus 2
    const h = [next, words];
    for (let i = 2; i < (words + 2) * 4; i++) h.push(int(r, 256));
    return h;
  }
  const units = r() < 0.8 ? int(r, 2) : int(r, 5);
  const len = (units + 1) * 8;
  if (nh === ROUTING) {
    const h = [next, units, [0, 2, 4][int(r, 3)]!, r() < 0.7 ? 0 : 1];
    while (h.length < len) h.push(int(r, 256));
    return h;
  }
  return [next, units, ...optionArea(r, len - 2)];
}

/** An upper-layer header of `protocol` (a SYN for TCP, with an MSS option). */
function upperHeader(r: Rand, protocol: number): number[] {
  if (protocol === TCP) {
    const syn = r() < 0.7;
    return [0x30, 0x39, 0, r() < 0.3 ? 9 : 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x60, syn ? 2 : 0x10]
      .concat([0xff, 0xff, 0, 0, 0, 0, 2, 4, 0x05, 0xb4]);
  }
  if (protocol === UDP) return [0x13, 0x88, 0, r() < 0.3 ? 9 : 7, 0, 12, 0, 0, 1, 2, 3, 4];
  if (protocol === ICMPV6) {
    if (r() < 0.5) return [128, 0, 0, 0, 0, 1, 0, 1, 9, 9]; // echo request
    const quoted = ipv6(r, [], UDP, [0x13, 0x88, 0, 7, 0, 8, 0, 0], 40);
    return [1, 4, 0, 0, 0, 0, 0, 0, ...quoted]; // port unreachable quoting a packet
  }
  const out: number[] = [];
  for (let i = int(r, 24); i > 0; i--) out.push(int(r, 256));
  return out;
}

const INSIDE = IpAddress.parse("fd00:1::5")!.bytes(); // behind nptv6's inside prefix
const OUTSIDE = IpAddress.parse("2001:db8:9::7")!.bytes();
const US = IpAddress.parse("fd00:1::1")!.bytes(); // the router itself: drop_port's input hook

/** An IPv6 packet: fixed header, `chain` (kinds), `protocol` and its header. */
function ipv6(
  r: Rand,
  chain: readonly number[],
  protocol: number,
  upper: readonly number[],
  hopLimit: number,
): number[] {
  const body: number[] = [];
  for (let i = chain.length - 1, next = protocol; i >= 0; next = chain[i]!, i--) {
    body.unshift(...extension(r, chain[i]!, next));
  }
  body.push(...upper);
  const inbound = r() < 0.5;
  const src = inbound ? OUTSIDE : INSIDE;
  const dst = r() < 0.1 ? US : inbound ? IpAddress.parse("2001:db8:1::5")!.bytes() : OUTSIDE;
  const len = r() < 0.85 ? body.length : r() < 0.5 ? 0 : int(r, 0x10000);
  return [
    0x60,
    0,
    0,
    0,
    len >> 8,
    len & 0xff,
    chain[0] ?? protocol,
    hopLimit,
    ...src,
    ...dst,
    ...body,
  ];
}

/** A hostile chain: 0 to 10 headers of any kind in any order. */
function hostilePacket(r: Rand): Uint8Array {
  const n = r() < 0.4 ? int(r, 3) : int(r, 11);
  const chain: number[] = [];
  for (let i = 0; i < n; i++) chain.push([HBH, DEST, DEST, ROUTING, FRAGMENT, AH][int(r, 6)]!);
  const protocol = [TCP, TCP, UDP, ICMPV6, ESP, NONE, int(r, 256)][int(r, 7)]!;
  const p = Uint8Array.from(ipv6(r, chain, protocol, upperHeader(r, protocol), 64));
  return r() < 0.5 ? p : mutate(p, r);
}

/** Where `ipv6_find_hdr()` (Linux, net/ipv6/exthdrs_core.c) finds the upper layer. */
function modelFindUpper(
  b: Uint8Array,
  off: number,
  end: number,
  maxHeaders: number,
): { protocol: number; upperAt: number; laterFragment: boolean } | string {
  let nh = b[off + 6]!;
  let at = off + 40;
  for (let headers = 0; [HBH, ROUTING, FRAGMENT, DEST, AH].includes(nh); headers++) {
    if (headers === maxHeaders) return "chain_too_long";
    if (end - at < 8) return "chain_truncated";
    const len = nh === FRAGMENT ? 8 : nh === AH ? (b[at + 1]! + 2) * 4 : (b[at + 1]! + 1) * 8;
    if (end - at < len) return "chain_truncated";
    const later = nh === FRAGMENT && ((b[at + 2]! << 8) | b[at + 3]!) >> 3 !== 0;
    nh = b[at]!;
    at += len;
    if (later) return { protocol: nh, upperAt: at, laterFragment: true };
  }
  return { protocol: nh, upperAt: at, laterFragment: false };
}

/** The result of a walk, as text, to compare two walks of the same packet. */
function shown(problem: string | null, c: Ipv6Chain): string {
  return problem !== null
    ? `${problem} ${c.icmpCode} ${c.icmpPointer}`
    : `${c.protocol}@${c.upperAt} by ${c.protocolAt} h${c.headers} f${c.fragmentAt}:` +
      `${c.fragmentOffset}${c.moreFragments ? "+" : ""} ra${c.routerAlert}`;
}

Deno.test(`ipv6 chain fuzz: both walks on ${CASES} hostile chains (seed ${SEED}) stay inside the packet`, () => {
  const r = prng(SEED);
  const find = new Ipv6Chain();
  const walk = new Ipv6Chain({ maxHeaders: 1 + int(r, 8) });
  let agreed = 0, refused = 0, fragments = 0;
  for (let i = 0; i < CASES; i++) {
    const p = hostilePacket(r);
    if (p.length < 40) continue;
    // Somewhere in a larger buffer, random bytes before and after.
    const off = int(r, 16);
    const tail = int(r, 64);
    const buf = new Uint8Array(off + p.length + tail);
    for (let k = 0; k < buf.length; k++) buf[k] = int(r, 256);
    buf.set(p, off);
    const end = off + Math.min(p.length, 40 + ((p[4]! << 8) | p[5]!));
    const where = `case ${i} (seed ${SEED}) off ${off} end ${end}: ${hex(p)}`;

    const f1 = findIpv6Upper(buf, off, end, find);
    const found = shown(f1, find);
    const w1 = walkIpv6Chain(buf, off, end, walk);
    const walked = shown(w1, walk);
    // Nothing past `end` is read: change it all, and neither walk notices.
    for (let k = end; k < buf.length; k++) buf[k] = ~buf[k]! & 0xff;
    assert.equal(
      shown(findIpv6Upper(buf, off, end, find), find),
      found,
      `${where}: find read past end`,
    );
    assert.equal(
      shown(walkIpv6Chain(buf, off, end, walk), walk),
      walked,
      `${where}: walk read past end`,
    );

    const model = modelFindUpper(buf, off, end, find.maxHeaders);
    if (typeof model === "string") assert.equal(f1, model, where);
    else {
      assert.equal(f1, null, where);
      assert.deepEqual(
        [find.protocol, find.upperAt, find.fragmentOffset !== 0],
        [model.protocol, model.upperAt, model.laterFragment],
        where,
      );
      assert.equal(buf[find.protocolAt], find.protocol, where);
      assert.ok(find.upperAt <= end && find.headers <= find.maxHeaders, where);
    }

    if (w1 === null) {
      assert.ok(walk.upperAt <= end && walk.headers <= walk.maxHeaders, where);
      assert.equal(buf[walk.protocolAt], walk.protocol, where);
      if (walk.fragmentOffset !== 0) fragments++;
      // Where a destination goes on to the upper layer (AH is one for it),
      // the hooks were told the same one.
      if (walk.fragmentOffset === 0 && walk.protocol !== AH && walk.headers <= find.maxHeaders) {
        assert.equal(f1, null, where);
        assert.deepEqual([find.protocol, find.upperAt], [walk.protocol, walk.upperAt], where);
        agreed++;
      }
    } else {
      refused++;
      assert.ok(IPV6_CHAIN_PROBLEMS.includes(w1), where);
      assert.ok([-1, 0, 1, 2, 3].includes(walk.icmpCode), where);
      if (walk.icmpCode >= 0) {
        assert.ok(walk.icmpPointer >= 0 && walk.icmpPointer < end - off, `${where}: pointer`);
      }
    }
  }
  // The generator reaches every kind of outcome.
  assert.ok(agreed > CASES / 20 && refused > CASES / 20 && fragments > 0, `${agreed} ${refused}`);
});

/** Whether the TCP, UDP or ICMPv6 checksum of IPv6 packet `p` (no extension header past `upperAt`) is right. */
function upperChecksumRight(p: Uint8Array, protocol: number, upperAt: number): boolean {
  const l4 = p.subarray(upperAt);
  const pseudo = new Uint8Array(40);
  pseudo.set(p.subarray(8, 40));
  new DataView(pseudo.buffer).setUint32(32, l4.length);
  pseudo[39] = protocol;
  return sumBytes(l4, sumBytes(pseudo)) === 0xffff;
}

/** Writes the right TCP, UDP or ICMPv6 checksum into `p`, if its chain leads to one. */
function fixUpperChecksum(p: Uint8Array, chain: Ipv6Chain): boolean {
  if (p.length < 40 || ((p[4]! << 8) | p[5]!) !== p.length - 40) return false;
  if (findIpv6Upper(p, 0, p.length, chain) !== null) return false;
  if (chain.fragmentAt >= 0 && (chain.fragmentOffset !== 0 || chain.moreFragments)) return false;
  const at = chain.upperAt + (chain.protocol === TCP ? 16 : chain.protocol === UDP ? 6 : 2);
  if (![TCP, UDP, ICMPV6].includes(chain.protocol) || at + 2 > p.length) return false;
  p[at] = p[at + 1] = 0;
  const l4 = p.subarray(chain.upperAt);
  const pseudo = new Uint8Array(40);
  pseudo.set(p.subarray(8, 40));
  new DataView(pseudo.buffer).setUint32(32, l4.length);
  pseudo[39] = chain.protocol;
  let sum = ~sumBytes(l4, sumBytes(pseudo)) & 0xffff;
  if (sum === 0 && chain.protocol === UDP) sum = 0xffff;
  p[at] = sum >> 8;
  p[at + 1] = sum & 0xff;
  return true;
}

Deno.test(`ipv6 chain fuzz: a router with conntrack, mssclamp, nptv6 and drop_port forwards ${CASES} hostile packets`, () => {
  const r = prng(SEED + 1);
  const h = makeHost({
    linkType: 101,
    addresses: ["fd00:1::1/64", "2001:db8:9::1/64"],
    withoutPlugins: ["mld"],
    extraPlugins: [conntrackPlugin, mssClampPlugin, nptv6Plugin, dropPortPlugin],
    plugins: {
      conntrack: { maxEntries: 64 },
      mssclamp: { mss: 1000 },
      nptv6: { inside: "fd00:1::/48", outside: "2001:db8:1::/48" },
    },
  });
  const s = h.stack;
  s.setForwarding(true, 6);
  s.addRoute("2001:db8::/32", { gateway: "2001:db8:9::2" });
  s.addRoute("fd00::/16", { gateway: "fd00:1::2" });
  const total = () => Object.values(s.counters.snapshot()).reduce((a, b) => a + b, 0);
  const chain = new Ipv6Chain();
  let maxHeld = 0, checked = 0, forwarded = 0;
  for (let i = 0; i < CASES; i++) {
    const p = hostilePacket(r);
    const sumRight = r() < 0.8 && fixUpperChecksum(p, chain);
    const where = `case ${i} (seed ${SEED + 1}): ${hex(p)}`;
    const before = total();
    kernelOf(s).inject(h.iface.index, p); // must not throw
    h.runFor(0);
    assert.ok(total() > before, `${where}: no counter moved`);
    assert.equal(s.counters.value("dispatcher.plugin_fault"), 0, `${where}: plugin fault`);
    for (const out of h.take()) {
      if (out[6] === ICMPV6 && out[40]! < 128) continue; // our own error about it
      forwarded++;
      if (!sumRight || findIpv6Upper(out, 0, out.length, chain) !== null) continue;
      if (chain.fragmentAt >= 0 && (chain.fragmentOffset !== 0 || chain.moreFragments)) continue;
      assert.ok(
        upperChecksumRight(out, chain.protocol, chain.upperAt),
        `${where}: checksum broken`,
      );
      checked++;
    }
    if (i % 64 === 0) h.runFor(5_000_000); // conntrack timeouts, reassembly timers
    maxHeld = Math.max(maxHeld, s.pool.outstanding);
    assert.ok(s.conntrack().length <= 64, `${where}: ${s.conntrack().length} connections`);
  }
  for (const name of s.pluginNames) assert.ok(!s.isQuarantined(name), `${name} quarantined`);
  assert.ok(maxHeld < 4096, `${maxHeld} buffers held at once`);
  assert.ok(checked > CASES / 20, `only ${checked} of ${forwarded} forwarded checked`);
  assert.ok(h.counter("mssclamp.clamped") > 0 && h.counter("nptv6.inbound") > 0);
  assert.ok(h.counter("nptv6.outbound") > 0 && h.counter("drop_port.input.blocked") > 0);
  // Chains the hooks could not read were dropped before them, under their own names.
  assert.ok(h.counter("ipv6.hook.chain_too_long") > 0, "hook.chain_too_long never counted");
  assert.ok(h.counter("ipv6.hook.chain_truncated") > 0, "hook.chain_truncated never counted");
  h.finish();
});
