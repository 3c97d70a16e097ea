/**
 * What every network-layer hook point tells a hook of the upper layer
 * (`stack/hooks.ts`): `pkt.proto` the upper-layer protocol and `pkt.l4`
 * its header, -1 in a non-first fragment, the same way for IPv4 and IPv6,
 * past IPv6 extension headers as netfilter's `ipv6_find_hdr()`; an IPv6
 * chain that cannot be followed is dropped before any hook and counted.
 *
 * One host on a raw-IP link (the test is its peer), forwarding IPv6 back
 * out of the same link to fd99::/64 via fd00::2, so that one packet can
 * reach prerouting, input, forward, output and postrouting.
 */
import assert from "node:assert/strict";
import { ACCEPT, type HookPoint, type PacketBuffer } from "../../mod.ts";
import { ipv4Packet, ipv6Packet, makeHost, testPlugin } from "../_harness.ts";

const HBH = 0, TCP = 6, UDP = 17, FRAGMENT = 44, ESP = 50, DEST = 60;
const US = "fd00::1", PEER = "fd00::2", FAR = "fd99::5";

const POINTS: readonly HookPoint[] = ["prerouting", "input", "forward", "output", "postrouting"];

interface Sight {
  readonly point: HookPoint;
  readonly family: number;
  readonly proto: number;
  /** `pkt.l4` from the network header, or -1. */
  readonly l4: number;
}

/** A host whose hook at the five points records what it is told, and `drop` decides. */
function watchedHost(drop: (pkt: PacketBuffer) => boolean = () => false) {
  const seen: Sight[] = [];
  const watcher = testPlugin({
    name: "upper_watch",
    layer: "middlebox",
    hooks: POINTS.map((point) => ({ point })),
    counters: POINTS.map((point) => `${point}.dropped`),
  }, () => ({
    hook(point, pkt) {
      seen.push({
        point,
        family: pkt.family,
        proto: pkt.proto,
        l4: pkt.l4 < 0 ? -1 : pkt.l4 - pkt.l3,
      });
      return drop(pkt) ? "dropped" : ACCEPT;
    },
  }));
  const h = makeHost({
    linkType: 101,
    addresses: ["10.0.0.1/24", `${US}/64`],
    withoutPlugins: ["mld"],
    extraPlugins: [watcher],
  });
  h.stack.setForwarding(true, 6);
  h.stack.addRoute("fd99::/64", { gateway: PEER });
  return { h, seen };
}

/** An 8-byte options header naming `next` (PadN only, or one option `type` of 4 bytes). */
const options = (next: number, type = 1) => [next, 0, type, 4, 0, 0, 0, 0];

/** A TCP SYN to `port` (checksum left for {@linkcode ipv6}). */
function syn(port: number): number[] {
  return [0x30, 0x39, port >> 8, port & 0xff, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff]
    .concat([0, 0, 0, 0]);
}

/**
 * An IPv6 packet `src` → `dst` whose fixed header names `first`, carrying
 * `chain` (extension headers) then `upper` of protocol `proto` (-1: no
 * header, its checksum not computed).
 */
function ipv6(
  src: string,
  dst: string,
  first: number,
  chain: number[],
  proto: number,
  upper: number[],
): Uint8Array {
  const protocol = proto >= 0 ? { protocol: proto } : {};
  return ipv6Packet({ src, dst, nextHeader: first, chain, ...protocol }, upper);
}

const at = (seen: Sight[], family = 6) =>
  seen.filter((s) => s.family === family).map((s) => [s.point, s.proto, s.l4]);

Deno.test("hooks, IPv6: TCP behind Hop-by-Hop and Destination Options is TCP at its header at input, and the RST out", () => {
  const { h, seen } = watchedHost();
  const out = h.inject(ipv6(PEER, US, HBH, [...options(DEST), ...options(TCP)], TCP, syn(9)));
  assert.equal(out.length, 1, "a RST: nothing listens on 9");
  assert.equal(out[0]![6], TCP);
  assert.equal(out[0]![53]! & 0x04, 0x04, "RST");
  assert.deepEqual(at(seen), [
    ["prerouting", TCP, 56],
    ["input", TCP, 56],
    ["output", TCP, 40],
    ["postrouting", TCP, 40],
  ]);
  h.finish();
});

Deno.test("hooks, IPv6: a forwarded packet is read past options a router does not judge, at all three points", () => {
  const { h, seen } = watchedHost();
  // Option type 0x41 (01xxxxxx): a destination would discard; a router forwards it.
  const out = h.inject(ipv6(PEER, FAR, DEST, options(UDP, 0x41), UDP, [0, 1, 0, 7, 0, 8, 0, 0]));
  assert.equal(out.length, 1, "forwarded back out of the link");
  assert.deepEqual(at(seen), [
    ["prerouting", UDP, 48],
    ["forward", UDP, 48],
    ["postrouting", UDP, 48],
  ]);
  h.finish();
});

Deno.test("hooks, IPv6: a non-first fragment names its protocol with no header (l4 -1); ESP ends the chain", () => {
  const { h, seen } = watchedHost();
  const later = [TCP, 0, 0x00, 0x10, 0, 0, 0, 7]; // offset 16, last
  h.inject(ipv6(PEER, FAR, FRAGMENT, later, -1, new Array(24).fill(0xab)));
  assert.deepEqual(at(seen), [
    ["prerouting", TCP, -1],
    ["forward", TCP, -1],
    ["postrouting", TCP, -1],
  ]);
  seen.length = 0;
  h.inject(ipv6(PEER, FAR, DEST, options(ESP), -1, [0, 0, 1, 0, 0, 0, 0, 1, 0xee, 0xee]));
  assert.deepEqual(at(seen), [
    ["prerouting", ESP, 48],
    ["forward", ESP, 48],
    ["postrouting", ESP, 48],
  ]);
  h.finish();
});

Deno.test("hooks, IPv6: a chain too long or cut short reaches no hook, is counted, and draws no ICMPv6", () => {
  const { h, seen } = watchedHost();
  const nine: number[] = [];
  for (let i = 0; i < 9; i++) nine.push(...options(i < 8 ? DEST : TCP));
  assert.deepEqual(h.inject(ipv6(PEER, FAR, DEST, nine, TCP, syn(22))), []);
  assert.deepEqual(h.inject(ipv6(PEER, US, DEST, nine, TCP, syn(22))), []);
  // A Destination Options header claiming 16 bytes where 8 remain.
  assert.deepEqual(h.inject(ipv6(PEER, FAR, DEST, [TCP, 1, 1, 4, 0, 0, 0, 0], -1, [])), []);
  assert.deepEqual(seen, []);
  assert.equal(h.counter("ipv6.hook.chain_too_long"), 2);
  assert.equal(h.counter("ipv6.hook.chain_truncated"), 1);
  assert.equal(h.counter("ipv6.fwd.forwarded"), 0);
  h.finish();
});

Deno.test("hooks, IPv6: a hook dropping TCP it finds behind Destination Options stops it before forwarding", () => {
  const { h, seen } = watchedHost((pkt) => pkt.proto === TCP && pkt.l4 >= 0);
  const out = h.inject(ipv6(PEER, FAR, DEST, options(TCP), TCP, syn(22)));
  assert.deepEqual(at(seen), [["prerouting", TCP, 48]]);
  assert.equal(h.counter("ipv6.fwd.forwarded"), 0);
  assert.equal(out.length, 0, "dropped at prerouting: nothing forwarded");
  h.finish();
});

Deno.test("hooks, IPv4: the same two fields, l4 -1 in a non-first fragment", () => {
  const { h, seen } = watchedHost();
  const udp = new Uint8Array([0, 1, 0, 7, 0, 8, 0, 0]);
  h.inject(ipv4Packet({ src: "10.0.0.2", dst: "10.0.0.1", protocol: UDP }, udp));
  assert.deepEqual(at(seen, 4).slice(0, 2), [["prerouting", UDP, 20], ["input", UDP, 20]]);
  seen.length = 0;
  h.inject(ipv4Packet({
    src: "10.0.0.2",
    dst: "10.0.0.1",
    protocol: TCP,
    id: 9,
    fragmentOffset: 2,
    options: new Uint8Array([1, 1, 1, 1]), // NOPs: the header is 24 bytes
  }, new Uint8Array(16)));
  assert.deepEqual(at(seen, 4), [["prerouting", TCP, -1]]);
  h.finish();
});
