/**
 * Property: whatever bytes arrive, a default stack never throws, never faults
 * a plugin, accounts for every frame in a counter, and gives back every
 * buffer. Frames are injected with `kernelOf(stack).inject()` on an Ethernet and a
 * raw-IP interface of a default `createStack()` on the loopback network.
 */
import assert from "node:assert/strict";
import fc from "npm:fast-check@3.23.2";
import { createStack, LINKTYPE_IPV4, LINKTYPE_RAW, type Stack, VirtualNetwork } from "../../mod.ts";
import type { NetInterface } from "../../stack/netif.ts";
import { kernelOf } from "../../stack/stack.ts";

// ---- frames -------------------------------------------------------------------------------

/** RFC 1071 checksum, written here so the test does not trust the stack's. */
function checksum(b: Uint8Array, from: number, to: number): number {
  let sum = 0;
  for (let i = from; i < to; i += 2) sum += (b[i]! << 8) | (i + 1 < to ? b[i + 1]! : 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** Recomputes the IPv4 header and ICMP checksums at `l3` if the header is plausible. */
function fixChecksums(f: Uint8Array, l3: number): void {
  if (f.length < l3 + 20 || f[l3]! >> 4 !== 4) return;
  const hlen = (f[l3]! & 15) * 4;
  if (hlen < 20 || l3 + hlen > f.length) return;
  f[l3 + 10] = f[l3 + 11] = 0;
  const c = checksum(f, l3, l3 + hlen);
  f[l3 + 10] = c >> 8;
  f[l3 + 11] = c & 0xff;
  const end = Math.min(f.length, l3 + ((f[l3 + 2]! << 8) | f[l3 + 3]!));
  if (f[l3 + 9] === 1 && end >= l3 + hlen + 4) {
    f[l3 + hlen + 2] = f[l3 + hlen + 3] = 0;
    const ic = checksum(f, l3 + hlen, end);
    f[l3 + hlen + 2] = ic >> 8;
    f[l3 + hlen + 3] = ic & 0xff;
  }
}

function ipv4(src: number[], dst: number[], proto: number, payload: number[], extra = {
  ttl: 64,
  flags: 0,
}): number[] {
  const total = 20 + payload.length;
  const h = [0x45, 0, total >> 8, total & 0xff, 0x12, 0x34, extra.flags, 0, extra.ttl, proto, 0, 0];
  return [...h, ...src, ...dst, ...payload];
}

const ECHO = [8, 0, 0, 0, 0x42, 0x42, 0, 1, ...Array.from({ length: 24 }, (_, i) => i)];
const UDP = [0x30, 0x39, 0, 53, 0, 12, 0, 0, 1, 2, 3, 4];

function ether(dst: number[], src: number[], type: number, payload: number[]): number[] {
  return [...dst, ...src, type >> 8, type & 0xff, ...payload];
}

function arp(op: number, sha: number[], spa: number[], tha: number[], tpa: number[]): number[] {
  return [0, 1, 8, 0, 6, 4, 0, op, ...sha, ...spa, ...tha, ...tpa];
}

const BCAST = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
const PEER_MAC = [0x02, 0x99, 0, 0, 0, 1];
const ETH_ADDR = [10, 0, 0, 1];
const RAW_ADDR = [10, 1, 0, 1];
const PEER = [10, 0, 0, 7];

/** Templates that reach deep into the stack before mutation. */
function ethernetTemplates(mac: number[]): number[][] {
  return [
    ether(mac, PEER_MAC, 0x0800, ipv4(PEER, ETH_ADDR, 1, ECHO)),
    ether(BCAST, PEER_MAC, 0x0800, ipv4(PEER, [10, 0, 0, 255], 1, ECHO)),
    ether(mac, PEER_MAC, 0x0800, ipv4(PEER, ETH_ADDR, 17, UDP)),
    ether(mac, PEER_MAC, 0x0800, ipv4(PEER, ETH_ADDR, 1, [0, 0, 0, 0, 0x42, 0x42, 0, 1])),
    ether(mac, PEER_MAC, 0x0800, ipv4(PEER, ETH_ADDR, 1, ECHO, { ttl: 1, flags: 0x20 })),
    ether(BCAST, PEER_MAC, 0x0806, arp(1, PEER_MAC, PEER, [0, 0, 0, 0, 0, 0], ETH_ADDR)),
    ether(mac, PEER_MAC, 0x0806, arp(2, PEER_MAC, PEER, mac, ETH_ADDR)),
    ether(mac, PEER_MAC, 0x8100, [0, 5, 0x08, 0x00, ...ipv4(PEER, ETH_ADDR, 1, ECHO)]),
    ether(mac, PEER_MAC, 0x86dd, [0x60, 0, 0, 0, 0, 8, 17, 64, ...new Array(32).fill(1)]),
    ether(mac, PEER_MAC, 0x0040, [1, 2, 3]),
  ];
}

function rawTemplates(): number[][] {
  return [
    ipv4([10, 1, 0, 2], RAW_ADDR, 1, ECHO),
    ipv4([10, 1, 0, 2], RAW_ADDR, 17, UDP),
    ipv4([10, 1, 0, 2], [10, 1, 0, 255], 1, ECHO),
    ipv4([10, 1, 0, 2], RAW_ADDR, 1, ECHO, { ttl: 64, flags: 0x20 }),
    [0x60, 0, 0, 0, 0, 8, 58, 64, ...new Array(40).fill(0)],
    [0x45],
  ];
}

interface Mutation {
  readonly template: number;
  readonly edits: readonly (readonly [number, number])[];
  readonly length: number | null;
  readonly fix: boolean;
}

const mutationArb: fc.Arbitrary<Mutation> = fc.record({
  template: fc.nat(),
  edits: fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 4 }),
  length: fc.option(fc.nat(2000)),
  fix: fc.boolean(),
});

function build(templates: number[][], m: Mutation, l3: number): Uint8Array {
  const t = templates[m.template % templates.length]!;
  const len = m.length === null ? t.length : m.length;
  const f = new Uint8Array(len);
  f.set(t.slice(0, len));
  for (const [at, v] of m.edits) if (len > 0) f[at % len] = v;
  if (m.fix) fixChecksums(f, l3);
  return f;
}

// ---- the property ---------------------------------------------------------------------------

function counterSum(stack: Stack): number {
  let s = 0;
  for (const v of Object.values(stack.counters.snapshot())) s += v;
  return s;
}

function rig() {
  const net = new VirtualNetwork({ seed: 5 });
  const stack = createStack({ clock: net.clock, seed: 11 });
  net.addNode(stack);
  const eth = stack.addInterface({ driver: net.link().a, addresses: ["10.0.0.1/24"] });
  const raw = stack.addInterface({
    driver: net.link({ linkType: LINKTYPE_RAW }).a,
    addresses: ["10.1.0.1/24"],
  });
  const v4 = stack.addInterface({
    driver: net.link({ linkType: LINKTYPE_IPV4 }).a,
    addresses: ["10.2.0.1/24"],
  });
  net.runUntilIdle(); // whatever the stack sends on its own when links come up
  const start = stack.pool.outstanding;
  return {
    net,
    stack,
    eth,
    raw,
    v4,
    start,
    /** Injects one frame and checks the invariants. */
    check(iface: NetInterface, frame: Uint8Array): void {
      const before = counterSum(stack);
      const rx = iface.stats.rxPackets;
      kernelOf(stack).inject(iface.index, frame); // must not throw
      assert.equal(iface.stats.rxPackets, rx + 1);
      assert.ok(
        counterSum(stack) > before,
        `no counter moved for ${frame.length} bytes on ${iface.name}: ${
          [...frame.subarray(0, 48)].map((b) => b.toString(16).padStart(2, "0")).join("")
        }`,
      );
      // Replies, ARP retries and queues: let virtual time run them out.
      assert.ok(net.runUntilIdle({ maxTime: 600_000_000 }));
      assert.equal(stack.pool.outstanding, start, "a packet buffer leaked");
      assert.equal(net.pool.outstanding, 0, "a network buffer leaked");
      assert.equal(stack.counters.value("dispatcher.plugin_fault"), 0, stack.counterTable());
    },
    [Symbol.dispose]() {
      stack.close();
      net.close();
    },
  };
}

Deno.test("inject() of arbitrary bytes on Ethernet never throws and is always counted", () => {
  using r = rig();
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 2000 }), (bytes) => r.check(r.eth, bytes)),
    { seed: 101, numRuns: 400 },
  );
});

Deno.test("inject() of mutated Ethernet frames never throws and is always counted", () => {
  using r = rig();
  const templates = ethernetTemplates([...r.eth.mac!]);
  fc.assert(
    fc.property(mutationArb, (m) => r.check(r.eth, build(templates, m, 14))),
    { seed: 102, numRuns: 600 },
  );
});

Deno.test("inject() of arbitrary bytes on raw IP never throws and is always counted", () => {
  using r = rig();
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 2000 }), fc.boolean(), (bytes, v4) => {
      if (bytes.length > 0 && v4) bytes[0] = 0x40 | (bytes[0]! & 0x0f); // reach IPv4 often
      r.check(r.raw, bytes);
    }),
    { seed: 103, numRuns: 400 },
  );
});

Deno.test("inject() of mutated IP packets on raw IP links never throws and is always counted", () => {
  using r = rig();
  const templates = rawTemplates();
  fc.assert(
    fc.property(mutationArb, fc.boolean(), (m, onV4) => {
      r.check(onV4 ? r.v4 : r.raw, build(templates, m, 0));
    }),
    { seed: 104, numRuns: 600 },
  );
});

Deno.test("inject() of a valid echo request on each link type is answered and released", () => {
  using r = rig();
  const frame = new Uint8Array(ethernetTemplates([...r.eth.mac!])[0]!);
  fixChecksums(frame, 14);
  r.check(r.eth, frame);
  assert.equal(r.stack.counters.value("icmp.tx.echo_replies"), 1);
  const packet = new Uint8Array(rawTemplates()[0]!);
  fixChecksums(packet, 0);
  r.check(r.raw, packet);
  assert.equal(r.stack.counters.value("icmp.tx.echo_replies"), 2);
  assert.ok(r.raw.stats.txPackets >= 1);
});
