import assert from "node:assert/strict";
import { ACCEPT, type ProtocolPlugin } from "../../mod.ts";
import type { PacketBuffer } from "../../stack/packet.ts";
import {
  checkEthernet,
  checkIcmp,
  checkIpv4,
  ethernetFrame,
  framesMatching,
  ipv4Packet,
} from "../_harness.ts";
import { assertTsharkClean } from "../_tshark.ts";
import { count, makeRoutedNet } from "./_topology.ts";
import { kernelOf } from "../../stack/stack.ts";

const SECOND = 1_000_000;
const echoRequest = checkIcmp({ type: 8 });

/** How many of `frames` carry IPv4 (not the gratuitous ARPs of the set-up). */
function ipFrames(frames: Uint8Array[]): number {
  return framesMatching(frames, checkEthernet({ etherType: 0x0800 })).length;
}

Deno.test("routing H1 pings H3 across R1 and R2: TTL falls by one per router, checksums stay valid", async () => {
  const n = makeRoutedNet();
  const reply = await n.run(() => n.h1.ping("10.3.0.30"));
  assert.equal(reply.from, "10.3.0.30");
  assert.equal(reply.ttl, 62);
  const fromH2 = await n.run(() => n.h2.ping("10.3.0.30"));
  assert.equal(fromH2.ttl, 62);
  // On the middle link the request left R1 with TTL 63 and a checksum
  // fixed incrementally; checkIpv4 verifies it.
  const requests = framesMatching(
    n.mid.frames(),
    checkEthernet({}, checkIpv4({ src: "10.1.0.10", dst: "10.3.0.30", ttl: 63 }, echoRequest)),
  );
  assert.equal(requests.length, 1);
  const atH3 = framesMatching(
    n.lan3.frames(),
    checkEthernet({}, checkIpv4({ src: "10.1.0.10", ttl: 62 }, echoRequest)),
  );
  assert.equal(atH3.length, 1);
  assert.equal(count(n.r1, "ipv4.fwd.forwarded"), 4);
  assert.equal(count(n.r2, "ipv4.fwd.forwarded"), 4);
  for (const cap of [n.lan1, n.mid, n.lan3]) await assertTsharkClean(cap.bytes());
  n.finish();
});

Deno.test("routing forwarding is off by default; setForwarding(true) turns it on", async () => {
  const n = makeRoutedNet({ routerPlugins: { ipv4: { forwarding: false } } });
  assert.equal(n.r1.forwarding, false);
  await assert.rejects(n.run(() => n.h1.ping("10.3.0.30")), Deno.errors.TimedOut);
  assert.equal(count(n.r1, "ipv4.rx.not_for_us"), 1);
  n.r1.setForwarding(true);
  n.r2.setForwarding(true);
  assert.equal(n.r1.forwarding, true);
  assert.equal((await n.run(() => n.h1.ping("10.3.0.30"))).from, "10.3.0.30");
  n.finish();
});

Deno.test("routing TTL 1 at R1: time exceeded from R1's LAN address, quoting the probe", async () => {
  const n = makeRoutedNet();
  await assert.rejects(
    n.run(() => n.h1.ping("10.3.0.30", { ttl: 1 })),
    (e: Error) =>
      e instanceof Deno.errors.NetworkUnreachable &&
      /time to live exceeded from 10\.1\.0\.1$/.test(e.message),
  );
  const errors = framesMatching(
    n.lan1.frames(),
    checkEthernet(
      {},
      checkIpv4(
        { src: "10.1.0.1", dst: "10.1.0.10", protocol: 1 },
        checkIcmp({ type: 11, code: 0 }),
      ),
    ),
  );
  assert.equal(errors.length, 1);
  const quoted = errors[0]!.subarray(14 + 20 + 8);
  checkIpv4({ src: "10.1.0.10", dst: "10.3.0.30", ttl: 1 }, echoRequest)(quoted);
  assert.equal(count(n.r1, "ipv4.rx.fwd_ttl_exceeded"), 1);
  assert.equal(ipFrames(n.mid.frames()), 0, "nothing crossed R1");
  await assertTsharkClean(n.lan1.bytes());
  n.finish();
});

Deno.test("routing no route at R1: network unreachable from 10.1.0.1", async () => {
  const n = makeRoutedNet({ noRouterRoutes: true });
  await assert.rejects(
    n.run(() => n.h1.ping("10.3.0.30")),
    (e: Error) => /network unreachable from 10\.1\.0\.1$/.test(e.message),
  );
  assert.equal(count(n.r1, "ipv4.rx.fwd_no_route"), 1);
  const errors = framesMatching(
    n.lan1.frames(),
    checkEthernet({}, checkIpv4({ src: "10.1.0.1" }, checkIcmp({ type: 3, code: 0 }))),
  );
  assert.equal(errors.length, 1);
  await assertTsharkClean(n.lan1.bytes());
  n.finish();
});

Deno.test("routing ARP failure at R2: host unreachable back to H1 once resolution gives up", async () => {
  const n = makeRoutedNet();
  await assert.rejects(
    n.run(() => n.h1.ping("10.3.0.99", { timeout: 10_000 })),
    (e: Error) => /host unreachable from 10\.12\.0\.2$/.test(e.message),
  );
  assert.equal(count(n.r2, "ipv4.fwd.host_unreachable"), 1);
  assert.equal(count(n.r2, "arp.tx.unresolved"), 1);
  await assertTsharkClean(n.lan1.bytes());
  n.finish();
});

Deno.test("routing never forwards link broadcasts, nor link-local, loopback, 0/8 or class E addresses", () => {
  const n = makeRoutedNet();
  const eth0 = n.r1.interfaces.byName("eth0")!;
  const peer = "02:00:00:00:77:77";
  function inject(src: string, dst: string, dstMac: Uint8Array | string = eth0.mac!): void {
    kernelOf(n.r1).inject(
      eth0.index,
      ethernetFrame(
        { dst: typeof dstMac === "string" ? dstMac : dstMac, src: peer, etherType: 0x0800 },
        ipv4Packet({ src, dst, protocol: 17 }, new Uint8Array(8)),
      ),
    );
  }
  inject("10.1.0.10", "10.3.0.30", "ff:ff:ff:ff:ff:ff");
  inject("10.1.0.10", "10.3.0.30", "01:00:5e:00:00:01");
  for (const dst of ["127.0.0.1", "0.0.0.5", "169.254.1.1", "240.0.0.1"]) inject("10.1.0.10", dst);
  for (const src of ["169.254.7.7", "0.0.0.0", "0.1.2.3"]) inject(src, "10.3.0.30");
  inject("10.1.0.10", "239.1.1.1"); // multicast IP in a unicast frame: not routed
  n.runFor(SECOND);
  assert.equal(count(n.r1, "ipv4.rx.fwd_link_broadcast"), 2);
  assert.equal(count(n.r1, "ipv4.rx.fwd_bad_destination"), 4);
  // 0/8 sources are martians, refused before the forwarding decision.
  assert.equal(count(n.r1, "ipv4.rx.fwd_bad_source"), 1);
  assert.equal(count(n.r1, "ipv4.rx.martian_zero_source"), 2);
  assert.equal(count(n.r1, "ipv4.rx.not_for_us"), 1);
  assert.equal(count(n.r1, "ipv4.fwd.forwarded"), 0);
  assert.equal(ipFrames(n.mid.frames()), 0);
  // And no ICMP error about any of them.
  assert.equal(count(n.r1, "icmp.tx.dest_unreachable"), 0);
  n.finish();
});

Deno.test("routing a forward hook sees each forwarded copy after the TTL decrement and may drop it", async () => {
  const seen: number[] = [];
  function hook(name: string): ProtocolPlugin {
    return {
      manifest: {
        name: `fw-${name}`,
        version: "1.0.0",
        api: "^1.0.0",
        description: "drops forwarded echo requests with TTL 63",
        layer: "middlebox",
        binds: [],
        hooks: [{ point: "forward" }],
        counters: ["forward.blocked"],
      },
      setup() {
        return {
          hook(_point: string, pkt: PacketBuffer) {
            seen.push(pkt.buf[pkt.l3 + 8]!);
            return name === "r2" && pkt.buf[pkt.l3 + 9] === 1 && pkt.buf[pkt.l3 + 20] === 8
              ? "blocked"
              : ACCEPT;
          },
        };
      },
    };
  }
  const n = makeRoutedNet({ routerExtraPlugins: (name) => [hook(name)] });
  await assert.rejects(n.run(() => n.h1.ping("10.3.0.30")), Deno.errors.TimedOut);
  assert.deepEqual(seen, [63, 62], "R1 then R2, each after its decrement");
  assert.equal(count(n.r2, "fw-r2.forward.blocked"), 1);
  assert.equal(ipFrames(n.lan3.frames()), 0);
  n.finish();
});
