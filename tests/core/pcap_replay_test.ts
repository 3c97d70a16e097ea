/**
 * Every frame of every capture fixture (tests/fixtures/pcaps, including
 * linux-probes/) goes through a default stack: on an Ethernet or a
 * raw-IP interface by the capture's link type, once as a bystander and once
 * as the addressee (promiscuous, with the capture's IPv4 destinations as its
 * own addresses, so frames get past IPv4 into ICMP, UDP and beyond). No frame
 * may throw, fault a plugin, go uncounted or leak a buffer.
 */
import assert from "node:assert/strict";
import { parseCapture } from "../../drivers/pcapfile/mod.ts";
import {
  createStack,
  LINKTYPE_ETHERNET,
  LINKTYPE_IPV4,
  LINKTYPE_IPV6,
  LINKTYPE_RAW,
  VirtualNetwork,
} from "../../mod.ts";
import type { NetInterface } from "../../stack/netif.ts";
import { pcapPath, SHARED_PCAPS, sharedCaptures } from "../_harness.ts";
import { kernelOf } from "../../stack/stack.ts";

const CORPUS = SHARED_PCAPS;

const FILES = sharedCaptures();

/** How long the network may take to settle after a frame (µs): 31 days. */
const SETTLE = 31 * 86_400 * 1_000_000;

/** The IPv4 destination (or, `at` 12, source) of a frame, if it carries an IPv4 header. */
function ipv4Destination(linkType: number, f: Uint8Array, at = 16): string | undefined {
  let l3 = 0;
  if (linkType === LINKTYPE_ETHERNET) {
    if (f.length < 14) return undefined;
    let off = 12;
    let type = (f[off]! << 8) | f[off + 1]!;
    while ((type === 0x8100 || type === 0x88a8) && f.length >= off + 6) {
      off += 4;
      type = (f[off]! << 8) | f[off + 1]!;
    }
    if (type !== 0x0800) return undefined;
    l3 = off + 2;
  }
  if (f.length < l3 + 20 || f[l3]! >> 4 !== 4) return undefined;
  const d = f.subarray(l3 + at, l3 + at + 4);
  if (d[0]! >= 224 || d[0] === 0 || d[0] === 127) return undefined; // multicast, broadcast…
  return `${d[0]}.${d[1]}.${d[2]}.${d[3]}`;
}

function replay(path: string, asAddressee: boolean): { frames: number; counters: string } {
  const { records, error } = parseCapture(Deno.readFileSync(path));
  assert.equal(error, null, `${path}: ${error?.message}`);
  const net = new VirtualNetwork({ seed: 1 });
  const stack = createStack({ clock: net.clock, seed: 2 });
  try {
    net.addNode(stack);
    const ifaces = new Map<number, NetInterface>();
    for (const lt of [LINKTYPE_ETHERNET, LINKTYPE_RAW, LINKTYPE_IPV4, LINKTYPE_IPV6]) {
      ifaces.set(lt, stack.addInterface({ driver: net.link({ linkType: lt }).a }));
    }
    if (asAddressee) {
      ifaces.get(LINKTYPE_ETHERNET)!.promiscuous = true;
      const seen = new Set<string>();
      for (const r of records) {
        const dst = ipv4Destination(r.linkType, r.data);
        const iface = ifaces.get(r.linkType);
        if (dst === undefined || iface === undefined || seen.has(dst) || seen.size >= 32) continue;
        // Not both ends of a conversation: frames from our own address are martians.
        if (seen.has(ipv4Destination(r.linkType, r.data, 12) ?? "")) continue;
        seen.add(dst);
        stack.addAddress(iface.index, `${dst}/32`); // /24 would refuse x.y.z.0 and .255
      }
    }
    net.runUntilIdle();
    const start = stack.pool.outstanding;
    let n = 0;
    for (const r of records) {
      const iface = ifaces.get(r.linkType);
      assert.ok(iface, `${path}: no interface for link type ${r.linkType}`);
      const where = `${path} frame ${r.index} (${r.data.length} bytes)`;
      const before = Object.values(stack.counters.snapshot()).reduce((a, b) => a + b, 0);
      kernelOf(stack).inject(iface.index, r.data);
      const after = Object.values(stack.counters.snapshot()).reduce((a, b) => a + b, 0);
      assert.ok(after > before, `${where}: no counter moved`);
      // 31 days: an RA's prefix may give a SLAAC address valid for 30 (RFC 4862 §5.5.3).
      assert.ok(net.runUntilIdle({ maxTime: SETTLE }), `${where}: network not idle`);
      assert.equal(stack.counters.value("dispatcher.plugin_fault"), 0, `${where}: plugin fault`);
      assert.equal(stack.pool.outstanding, start, `${where}: buffer leaked`);
      n++;
    }
    return { frames: n, counters: stack.counterTable() };
  } finally {
    stack.close();
    net.close();
  }
}

for (const path of FILES) {
  const name = path.slice(CORPUS.length + 1);
  Deno.test(`replaying ${name} never throws, faults, leaks or goes uncounted`, () => {
    for (const asAddressee of [false, true]) {
      const { frames } = replay(path, asAddressee);
      assert.ok(frames > 0, `${name}: no frames`);
    }
  });
}

Deno.test({
  name: "replaying the corpus as the addressee reaches past IPv4",
  fn() {
    const { counters } = replay(pcapPath("icmp_echo.pcapng"), true);
    assert.match(counters, /^ {2}rx\.echo_requests +4$/m);
  },
});
