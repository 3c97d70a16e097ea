import assert from "node:assert/strict";
import { checkEthernet, checkIcmp, checkIpv4, framesMatching } from "../_harness.ts";
import { assertTsharkClean } from "../_tshark.ts";
import { count, makeRoutedNet } from "./_topology.ts";

Deno.test("traceroute with ICMP echo of rising TTL (ping ttl option) names R1, R2, then H3", async () => {
  const n = makeRoutedNet();
  const seen: string[] = [];
  for (let ttl = 1; ttl <= 5; ttl++) {
    try {
      const reply = await n.run(() => n.h1.ping("10.3.0.30", { ttl }));
      seen.push(`reply ${reply.from}`);
      break;
    } catch (e) {
      assert.ok(e instanceof Deno.errors.NetworkUnreachable, String(e));
      const m = /^time to live exceeded from (.+)$/.exec(e.message);
      assert.ok(m, e.message);
      seen.push(`ttl ${m[1]}`);
    }
  }
  assert.deepEqual(seen, ["ttl 10.1.0.1", "ttl 10.12.0.2", "reply 10.3.0.30"]);
  await assertTsharkClean(n.lan1.bytes());
  n.finish();
});

Deno.test("stack.traceroute() over ICMP: R1, R2, then the echo reply from H3", async () => {
  const n = makeRoutedNet();
  const hops = await n.run(() => n.h1.traceroute("10.3.0.30", { protocol: "icmp" }));
  assert.deepEqual(
    hops.map((h) => [h.ttl, h.from, h.type, h.code, h.reached]),
    [[1, "10.1.0.1", 11, 0, false], [2, "10.12.0.2", 11, 0, false], [3, "10.3.0.30", 0, 0, true]],
  );
  n.finish();
});

Deno.test({
  name: "stack.traceroute() over UDP: R1, R2, then port unreachable from H3",
  async fn() {
    const n = makeRoutedNet();
    const hops = await n.run(() => n.h1.traceroute("10.3.0.30"));
    assert.deepEqual(
      hops.map((h) => [h.ttl, h.from, h.type, h.code, h.reached]),
      [[1, "10.1.0.1", 11, 0, false], [2, "10.12.0.2", 11, 0, false], [
        3,
        "10.3.0.30",
        3,
        3,
        true,
      ]],
    );
    // On H3's link: the UDP probe to port 33436 (TTL 1 when it arrives) and the port unreachable.
    const unreach = framesMatching(
      n.lan3.frames(),
      checkEthernet(
        {},
        checkIpv4({ src: "10.3.0.30", dst: "10.1.0.10" }, checkIcmp({ type: 3, code: 3 })),
      ),
    );
    assert.equal(unreach.length, 1);
    const quoted = unreach[0]!.subarray(14 + 20 + 8);
    checkIpv4({ src: "10.1.0.10", dst: "10.3.0.30", protocol: 17, ttl: 1 })(quoted);
    assert.equal(count(n.h1, "icmp.tx.udp_probes"), 3);
    assert.equal(count(n.h1, "icmp.rx.error_for_probe"), 3);
    for (const cap of [n.lan1, n.mid, n.lan3]) await assertTsharkClean(cap.bytes());
    n.finish();
  },
});

Deno.test("stack.traceroute() marks unanswered hops and stops at maxHops", async () => {
  const n = makeRoutedNet();
  // R2 has no route back to lan1: its time exceeded cannot leave, and H3's answer is lost.
  n.r2.deleteRoute("10.1.0.0/24");
  const hops = await n.run(() =>
    n.h1.traceroute("10.3.0.30", { protocol: "icmp", maxHops: 4, timeout: 200 })
  );
  assert.deepEqual(hops.map((h) => [h.ttl, h.from ?? "*"]), [
    [1, "10.1.0.1"],
    [2, "*"],
    [3, "*"],
    [4, "*"],
  ]);
  n.finish();
});
