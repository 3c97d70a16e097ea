/**
 * Issue 16: a fuzz harness for the receive path. Frames go into a default
 * stack (Ethernet, ARP, IPv4, ICMP, UDP, TCP) that has a TCP listener, a
 * TCP connection opening, a UDP socket and a static neighbour, so that
 * frames reach every layer. Three kinds of case, mixed:
 *
 * - random bytes behind a valid or random Ethernet header;
 * - frames of the capture fixtures (tests/fixtures/pcaps), readdressed to
 *   the stack half of the time, then mutated;
 * - structure-aware frames (ARP, IPv4 with options and fragments, ICMP echo
 *   and errors quoting our flows, UDP, TCP with any flags and options),
 *   then mutated, with the checksums fixed up afterwards half of the time
 *   so that mutations get past them.
 *
 * After every frame: nothing escaped `inject`, some counter moved (every
 * drop is counted; the stack runs with strict counters, so an undeclared
 * drop reason would be a plugin fault), no plugin fault or quarantine,
 * every frame the stack sent decodes (`stack/wire/decode.ts`) with no
 * problem and correct checksums, and the buffers held stay bounded; at the
 * end, closing the stack returns every buffer to the pool.
 *
 * The normal suite runs {@linkcode DEFAULT_CASES} cases; more with
 * `FUZZ_CASES` (and `FUZZ_SEED`):
 *
 * ```sh
 * FUZZ_CASES=1000000 deno test -A tests/hardening/receive_fuzz_test.ts
 * ```
 *
 * @module
 */
import assert from "node:assert/strict";
import type { ArpService, UdpService } from "../../mod.ts";
import { FIXTURE_PCAPS } from "../_fixtures.ts";
import { ip, mac, makeHost, onesSum } from "../_harness.ts";
import {
  bytes,
  corpus,
  ether as etherFrame,
  fuzzReceive,
  fuzzSettings,
  mutate,
  prng,
} from "./_fuzz.ts";

/** Cases in the normal suite. */
const DEFAULT_CASES = 4000;

const { cases: CASES, seed: SEED } = fuzzSettings(DEFAULT_CASES);

const US_MAC = [2, 0, 0, 0, 0, 1];
const PEER_MAC = [2, 0, 0, 0, 0, 9];
const US = [10, 0, 0, 1];
const PEER = [10, 0, 0, 9];

function ether(payload: Uint8Array, type: number, dst = US_MAC): Uint8Array {
  return etherFrame(payload, type, dst, PEER_MAC);
}

/** The Internet checksum of `b` with `initial` folded in. */
function cksum(b: Uint8Array, initial = 0): number {
  return ~onesSum(b, initial) & 0xffff;
}

/**
 * Recomputes the IPv4 header checksum and, for an unfragmented ICMP, UDP
 * or TCP datagram, the transport checksum (in place).
 */
function fixChecksums(f: Uint8Array): void {
  if (f.length < 34 || f[12] !== 0x08 || f[13] !== 0x00 || f[14]! >> 4 !== 4) return;
  const dv = new DataView(f.buffer, f.byteOffset, f.byteLength);
  const hlen = (f[14]! & 0x0f) * 4;
  if (hlen < 20 || 14 + hlen > f.length) return;
  dv.setUint16(24, 0);
  dv.setUint16(24, cksum(f.subarray(14, 14 + hlen)));
  const total = dv.getUint16(16);
  if ((dv.getUint16(20) & 0x3fff) !== 0 || total < hlen || 14 + total > f.length) return;
  const l4 = f.subarray(14 + hlen, 14 + total);
  const proto = f[23]!;
  const pseudo = () => {
    const p = new Uint8Array(12);
    p.set(f.subarray(26, 34));
    p[9] = proto;
    p[10] = l4.length >> 8;
    p[11] = l4.length & 0xff;
    return onesSum(p);
  };
  const at = proto === 1 ? 2 : proto === 17 ? 6 : proto === 6 ? 16 : -1;
  if (at < 0 || l4.length < at + 2) return;
  l4[at] = l4[at + 1] = 0;
  const sum = cksum(l4, proto === 1 ? 0 : pseudo());
  l4[at] = sum >> 8;
  l4[at + 1] = sum & 0xff;
}

function ipv4(proto: number, payload: Uint8Array, r: () => number, src = PEER): Uint8Array {
  const opts = r() < 0.1 ? Math.floor(r() * 11) * 4 : 0;
  const h = new Uint8Array(20 + opts + payload.length);
  const dv = new DataView(h.buffer);
  h[0] = 0x45 + opts / 4;
  dv.setUint16(2, h.length);
  dv.setUint16(4, Math.floor(r() * 8)); // few identifications: fragments meet
  if (r() < 0.1) dv.setUint16(6, (r() < 0.5 ? 0x2000 : 0) | Math.floor(r() * 64));
  else if (r() < 0.5) dv.setUint16(6, 0x4000);
  h[8] = r() < 0.05 ? Math.floor(r() * 3) : 64;
  h[9] = proto;
  h.set(src, 12);
  h.set(r() < 0.9 ? US : [10, 0, 0, r() < 0.5 ? 255 : Math.floor(r() * 256)], 16);
  for (let i = 0; i < opts; i++) {
    h[20 + i] = r() < 0.5 ? Math.floor(r() * 256) : [1, 7, 68, 131, 137, 148][Math.floor(r() * 6)]!;
  }
  h.set(payload, 20 + opts);
  return h;
}

/** A frame the stack will mostly take seriously. */
function structured(r: () => number, tcpPorts: readonly number[]): Uint8Array {
  const k = Math.floor(r() * 6);
  const src = r() < 0.85 ? PEER : [...bytes(4, r)];
  if (k === 0) { // ARP
    const a = new Uint8Array(28);
    a.set([0, 1, 8, 0, 6, 4, 0, r() < 0.5 ? 1 : 2]);
    a.set(PEER_MAC, 8);
    a.set(r() < 0.8 ? PEER : src, 14);
    a.set(r() < 0.5 ? US_MAC : [0, 0, 0, 0, 0, 0], 18);
    a.set(r() < 0.9 ? US : src, 24);
    return ether(a, 0x0806, r() < 0.5 ? US_MAC : [255, 255, 255, 255, 255, 255]);
  }
  if (k === 1) { // UDP
    const u = new Uint8Array(8 + Math.floor(r() * 64));
    const dv = new DataView(u.buffer);
    dv.setUint16(0, Math.floor(r() * 65536));
    dv.setUint16(2, r() < 0.6 ? 53 : Math.floor(r() * 65536));
    dv.setUint16(4, r() < 0.9 ? u.length : Math.floor(r() * 65536));
    u.set(bytes(u.length - 8, r), 8);
    return ether(ipv4(17, u, r, src), 0x0800);
  }
  if (k === 2 || k === 3) { // TCP, any flags, to the listener or the connection
    const opt = r() < 0.5 ? Math.floor(r() * 11) * 4 : 0;
    const t = new Uint8Array(20 + opt + (r() < 0.3 ? Math.floor(r() * 200) : 0));
    const dv = new DataView(t.buffer);
    const conn = r() < 0.5 && tcpPorts.length === 2;
    dv.setUint16(0, conn ? tcpPorts[1]! : Math.floor(r() * 65536));
    dv.setUint16(2, conn ? tcpPorts[0]! : r() < 0.7 ? 80 : Math.floor(r() * 65536));
    dv.setUint32(4, Math.floor(r() * 2 ** 32));
    dv.setUint32(8, Math.floor(r() * 2 ** 32));
    t[12] = (5 + opt / 4) << 4;
    t[13] = r() < 0.5 ? 0x02 : Math.floor(r() * 256);
    dv.setUint16(14, Math.floor(r() * 65536));
    for (let i = 0; i < opt; i++) {
      t[20 + i] = r() < 0.5
        ? Math.floor(r() * 256)
        : [0, 1, 2, 3, 4, 5, 8, 4][Math.floor(r() * 8)]!;
    }
    return ether(ipv4(6, t, r, src), 0x0800);
  }
  if (k === 4) { // ICMP echo, or an error quoting one of our flows
    if (r() < 0.4) {
      const e = new Uint8Array(8 + Math.floor(r() * 64));
      e[0] = r() < 0.8 ? 8 : Math.floor(r() * 256);
      return ether(ipv4(1, e, r, src), 0x0800);
    }
    const quotedProto = [6, 17, 1][Math.floor(r() * 3)]!;
    const inner = bytes(8, r);
    if (quotedProto === 6 && tcpPorts.length === 2) {
      inner[0] = tcpPorts[0]! >> 8;
      inner[1] = tcpPorts[0]! & 0xff;
      inner[2] = 0;
      inner[3] = 80;
    }
    const q = ipv4(quotedProto, inner, r, US);
    q.set(PEER, 16);
    const e = new Uint8Array(8 + q.length);
    e[0] = [3, 11, 12, 4, 5][Math.floor(r() * 5)]!;
    e[1] = Math.floor(r() * 16);
    new DataView(e.buffer).setUint16(6, Math.floor(r() * 1600));
    e.set(q, 8);
    return ether(ipv4(1, e, r, r() < 0.5 ? [10, 0, 0, 254] : src), 0x0800);
  }
  return ether(ipv4(Math.floor(r() * 256), bytes(Math.floor(r() * 40), r), r, src), 0x0800);
}

/** Readdresses an IPv4-over-Ethernet frame to the stack (a copy). */
function toUs(f: Uint8Array): Uint8Array {
  const g = f.slice();
  if (g.length >= 6) g.set(US_MAC);
  if (g.length >= 34 && g[12] === 0x08 && g[13] === 0x00) g.set(US, 30);
  fixChecksums(g);
  return g;
}

Deno.test(`receive path fuzz: ${CASES} random, capture-mutated and structured frames (seed ${SEED})`, () => {
  const r = prng(SEED);
  const seeds = corpus(FIXTURE_PCAPS, US_MAC, PEER_MAC);
  const h = makeHost({ mac: "02:00:00:00:00:01", addresses: ["10.0.0.1/24"] });
  try {
    const s = h.stack;
    s.service<ArpService>("arp.resolve")!.addStatic(
      h.iface.index,
      ip("10.0.0.9"),
      mac("02:00:00:00:00:09"),
    );
    const listener = s.listen({ port: 80 });
    const udp = s.service<UdpService>("udp.sockets")!.open({ port: 53 });
    assert.ok(typeof udp !== "string");
    s.connect({ hostname: "10.0.0.9", port: 80 }).catch(() => {}); // may fail under fuzz
    h.runFor(0);
    const conn = s.sockets().find((x) => x.state === "SYN-SENT");
    const tcpPorts = conn === undefined
      ? []
      : [Number(conn.local.split(":").pop()), Number(conn.remote.split(":").pop())];
    const into = new Uint8Array(2048);
    fuzzReceive(h, {
      cases: CASES,
      seed: SEED,
      next() {
        const kind = r();
        if (kind < 0.15) {
          return r() < 0.5 ? bytes(Math.floor(r() * 120), r) : ether(
            bytes(Math.floor(r() * 100), r),
            [0x0800, 0x0806, 0x86dd, 0x8100][Math.floor(r() * 4)]!,
          );
        }
        let f: Uint8Array;
        if (kind < 0.45 && seeds.length > 0) {
          const seed = seeds[Math.floor(r() * seeds.length)]!;
          f = mutate(r() < 0.5 ? toUs(seed) : seed, r);
          if (r() < 0.5) fixChecksums(f);
        } else {
          f = structured(r, tcpPorts);
          if (r() < 0.7) {
            f = mutate(f, r);
            if (r() < 0.5) fixChecksums(f);
          } else fixChecksums(f);
        }
        return f;
      },
      tick: () => h.runFor(Math.floor(r() * 2_000_000)), // retransmits, reassembly, ARP
      read: () => {
        while (udp.recv(into) >= 0); // the application reads
      },
    });
    udp.close();
    listener.close();
  } catch (e) {
    h.close();
    throw e;
  }
  h.finish(); // every buffer back in the pool
});
