/**
 * Prerouting with and without `defrag: true`, and the per-flow state
 * (`mark`, `ct`) a hook keeps on the packet.
 */
import assert from "node:assert/strict";
import type { HookJoin } from "../../mod.ts";
import { count, makeRoutedNet } from "../routing/_topology.ts";
import { type HookCall, recorder } from "./_hooks.ts";

function preroutingCalls(join: HookJoin, target: "10.3.0.30" | "10.1.0.1") {
  const calls: HookCall[] = [];
  const n = makeRoutedNet({
    routerExtraPlugins: (r) => r === "r1" ? [recorder("ct", [join], calls)] : [],
  });
  return { n, calls, ping: () => n.run(() => n.h1.ping(target, { size: 3000 })) };
}

Deno.test("hooks: without defrag, prerouting sees each fragment of a forwarded datagram", async () => {
  const { n, calls, ping } = preroutingCalls({ point: "prerouting" }, "10.3.0.30");
  const reply = await ping();
  assert.equal(reply.from, "10.3.0.30");
  const fromH1 = calls.filter((c) => c.src === "10.1.0.10");
  assert.equal(fromH1.length, 3, "3028 bytes in 1500-byte frames");
  assert.ok(fromH1.every((c) => c.totalLength <= 1500));
  assert.equal(count(n.r1, "ipv4.rx.reassembled"), 0);
  n.finish();
});

Deno.test("hooks: with defrag: true, prerouting sees whole datagrams; forwarded ones are fragmented again", async () => {
  const { n, calls, ping } = preroutingCalls({ point: "prerouting", defrag: true }, "10.3.0.30");
  const reply = await ping();
  assert.equal(reply.from, "10.3.0.30");
  const seen = calls.map((c) => ({ src: c.src, length: c.totalLength, frag: c.fragment & 0x3fff }));
  assert.deepEqual(seen, [
    { src: "10.1.0.10", length: 3028, frag: 0 },
    { src: "10.3.0.30", length: 3028, frag: 0 },
  ]);
  assert.equal(count(n.r1, "ipv4.rx.reassembled"), 2);
  assert.equal(count(n.r1, "ipv4.tx.fragmented"), 2, "both directions leave R1 in fragments");
  assert.equal(count(n.h3, "ipv4.rx.reassembled"), 1);
  assert.equal(n.r1.describe().hooks.prerouting?.[0], "ct");
  n.finish();
});

Deno.test("hooks: with defrag: true, a fragmented datagram for the router is delivered once", async () => {
  const { n, calls, ping } = preroutingCalls({ point: "prerouting", defrag: true }, "10.1.0.1");
  const reply = await ping();
  assert.equal(reply.from, "10.1.0.1");
  assert.deepEqual(calls.map((c) => c.totalLength), [3028]);
  assert.equal(count(n.r1, "icmp.rx.echo_requests"), 1);
  assert.equal(count(n.r1, "ipv4.rx.reassembled"), 1);
  n.finish();
});

Deno.test("hooks: mark and ct set at prerouting go with the forwarded copy to forward and postrouting", async () => {
  const calls: HookCall[] = [];
  const flow = { id: "flow-1" };
  const n = makeRoutedNet({
    midMtu: 576,
    routerExtraPlugins: (r) =>
      r === "r1"
        ? [
          recorder(
            "ct",
            [{ point: "prerouting" }, { point: "forward" }, { point: "postrouting" }],
            calls,
            (point, pkt) => {
              if (point === "prerouting") {
                pkt.mark = 42;
                pkt.ct = flow;
              }
            },
          ),
        ]
        : [],
  });
  await n.run(() => n.h1.ping("10.3.0.30", { size: 1000 }));
  const later = calls.filter((c) => c.src === "10.1.0.10" && c.point !== "prerouting");
  assert.deepEqual(later.map((c) => [c.point, c.mark, c.ct]), [
    ["forward", 42, flow],
    ["postrouting", 42, flow],
  ]);
  assert.ok(count(n.r1, "ipv4.tx.fragmented") >= 1, "fragmented after postrouting (MTU 576)");
  n.finish();
});

Deno.test("hooks: mark and ct of a first fragment reach input after local reassembly", async () => {
  const calls: HookCall[] = [];
  const flow = { id: "flow-2" };
  const n = makeRoutedNet({
    routerExtraPlugins: (r) =>
      r === "r1"
        ? [
          recorder("ct", [{ point: "prerouting" }, { point: "input" }], calls, (point, pkt) => {
            // Only the first fragment (offset 0) is marked: its state is the datagram's.
            if (point === "prerouting" && (pkt.dv.getUint16(pkt.l3 + 6) & 0x1fff) === 0) {
              pkt.mark = 7;
              pkt.ct = flow;
            }
          }),
        ]
        : [],
  });
  await n.run(() => n.h1.ping("10.1.0.1", { size: 3000 }));
  const input = calls.filter((c) => c.point === "input" && c.src === "10.1.0.10");
  assert.deepEqual(input.map((c) => [c.totalLength, c.mark, c.ct]), [[3028, 7, flow]]);
  n.finish();
});
