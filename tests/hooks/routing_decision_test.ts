/**
 * The routing decision comes after prerouting, and output routes again when
 * a hook changed the destination (netfilter's order; Linux's
 * ip_route_me_harder).
 */
import assert from "node:assert/strict";
import { rewriteIpv4Address } from "../../mod.ts";
import { checkEthernet, checkIcmp, checkIpv4, framesMatching } from "../_harness.ts";
import { count, makeRoutedNet } from "../routing/_topology.ts";
import { type HookCall, ip, recorder } from "./_hooks.ts";

const echoRequest = checkIcmp({ type: 8 });

/** Rewrites the destination `from` → `to` of ICMP packets at `point`. */
function dnat(point: "prerouting" | "output", from: string, to: string, calls: HookCall[] = []) {
  return recorder("dnat", [{ point }], calls, (_p, pkt) => {
    if (pkt.proto === 1 && pkt.dv.getUint32(pkt.dstAt) === ip(from)) {
      rewriteIpv4Address(pkt.dv, pkt.l3, pkt.end, "destination", ip(to));
    }
  });
}

Deno.test("hooks: prerouting DNAT of a packet addressed to the router makes it forwarded, not delivered", async () => {
  const n = makeRoutedNet({
    routerExtraPlugins: (r) => r === "r1" ? [dnat("prerouting", "10.1.0.1", "10.3.0.30")] : [],
  });
  // H3 answers from its own address, which H1's ping does not expect.
  await n.run(() => n.h1.ping("10.1.0.1", { timeout: 1000 }).catch(() => null));
  assert.equal(count(n.r1, "icmp.rx.echo_requests"), 0, "not delivered to R1");
  assert.ok(count(n.r1, "ipv4.fwd.forwarded") >= 1);
  assert.equal(count(n.h3, "icmp.rx.echo_requests"), 1);
  // checkIpv4 verifies the header checksum: the hook's rewrite kept it right.
  const atH3 = framesMatching(
    n.lan3.frames(),
    checkEthernet({}, checkIpv4({ src: "10.1.0.10", dst: "10.3.0.30", ttl: 62 }, echoRequest)),
  );
  assert.equal(atH3.length, 1);
  n.finish();
});

Deno.test("hooks: prerouting DNAT of a forwarded packet to the router's own address delivers it locally", async () => {
  const n = makeRoutedNet({
    routerExtraPlugins: (r) => r === "r1" ? [dnat("prerouting", "10.3.0.30", "10.1.0.1")] : [],
  });
  await n.run(() => n.h1.ping("10.3.0.30", { timeout: 1000 }).catch(() => null));
  assert.equal(count(n.r1, "icmp.rx.echo_requests"), 1, "delivered to R1");
  assert.equal(count(n.r1, "ipv4.fwd.forwarded"), 0);
  assert.equal(framesMatching(n.mid.frames(), checkEthernet({ etherType: 0x0800 })).length, 0);
  n.finish();
});

Deno.test("hooks: an output hook that changes the destination gets the packet routed again", async () => {
  const post: HookCall[] = [];
  const n = makeRoutedNet({
    routerExtraPlugins: (r) =>
      r === "r1"
        ? [
          dnat("output", "10.3.0.99", "10.1.0.10"),
          recorder("post", [{ point: "postrouting" }], post),
        ]
        : [],
  });
  // 10.3.0.99 routes via R2 (eth1); the rewrite sends it to H1 on eth0.
  await n.run(() => n.r1.ping("10.3.0.99", { timeout: 1000 }).catch(() => null));
  const requests = post.filter((c) => c.icmpType === 8);
  assert.equal(requests.length, 1);
  assert.equal(requests[0]!.dst, "10.1.0.10");
  assert.equal(requests[0]!.outIface, "eth0");
  assert.equal(requests[0]!.nextHop, "10.1.0.10");
  assert.equal(count(n.h1, "icmp.rx.echo_requests"), 1);
  const onMid = framesMatching(n.mid.frames(), checkEthernet({}, checkIpv4({}, echoRequest)));
  assert.equal(onMid.length, 0);
  n.finish();
});

Deno.test("hooks: an output hook that rewrites the destination to our own address delivers locally", async () => {
  const n = makeRoutedNet({
    routerExtraPlugins: (r) => r === "r1" ? [dnat("output", "10.3.0.99", "10.1.0.1")] : [],
  });
  await n.run(() => n.r1.ping("10.3.0.99", { timeout: 1000 }).catch(() => null));
  assert.equal(count(n.r1, "icmp.rx.echo_requests"), 1);
  assert.equal(framesMatching(n.mid.frames(), checkEthernet({ etherType: 0x0800 })).length, 0);
  n.finish();
});

Deno.test("hooks: output hooks see packets to our own address (route local) as well", async () => {
  const out: HookCall[] = [];
  const n = makeRoutedNet({
    routerExtraPlugins: (r) => r === "r1" ? [recorder("out", [{ point: "output" }], out)] : [],
  });
  await n.run(() => n.r1.ping("10.12.0.1"));
  const request = out.find((c) => c.icmpType === 8)!;
  assert.equal(request.local, true);
  assert.equal(request.inIface, null);
  assert.equal(request.outIface, null, "no outgoing interface for a local route");
  n.finish();
});
