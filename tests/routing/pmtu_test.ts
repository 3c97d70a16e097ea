import assert from "node:assert/strict";
import { checkEthernet, checkIcmp, checkIpv4, framesMatching } from "../_harness.ts";
import { assertTsharkClean } from "../_tshark.ts";
import { count, makeRoutedNet } from "./_topology.ts";

const SECOND = 1_000_000;

/** IPv4 frames sent by 10.1.0.10 to 10.3.0.30 on lan1. */
function fromH1(frames: Uint8Array[]): Uint8Array[] {
  return framesMatching(
    frames,
    checkEthernet({}, checkIpv4({ src: "10.1.0.10", dst: "10.3.0.30" })),
  );
}

Deno.test("pmtu a DF ping too big for the 576-byte middle link: fragmentation needed, MTU 576, learned", async () => {
  const n = makeRoutedNet({ midMtu: 576 });
  assert.equal(n.h1.routeGet("10.3.0.30")!.mtu, 1500);
  await assert.rejects(
    n.run(() => n.h1.ping("10.3.0.30", { size: 1400, dontFragment: true })),
    (e: Error) => /fragmentation needed \(mtu 576\) from 10\.1\.0\.1$/.test(e.message),
  );
  // On the wire: R1's error, carrying the next-hop MTU and quoting the DF datagram.
  const errors = framesMatching(
    n.lan1.frames(),
    checkEthernet(
      {},
      checkIpv4(
        { src: "10.1.0.1", dst: "10.1.0.10", protocol: 1 },
        checkIcmp({ type: 3, code: 4 }),
      ),
    ),
  );
  assert.equal(errors.length, 1);
  const icmp = errors[0]!.subarray(14 + 20);
  assert.equal(new DataView(icmp.buffer, icmp.byteOffset).getUint16(6), 576, "next-hop MTU");
  assert.equal(errors[0]!.length - 14, 576, "the error datagram is 576 bytes (RFC 1812 §4.3.2.3)");
  const quoted = icmp.subarray(8);
  assert.deepEqual(
    [
      quoted[0],
      (quoted[6]! & 0x40) !== 0,
      new DataView(quoted.buffer, quoted.byteOffset).getUint16(2),
    ],
    [0x45, true, 1428],
    "the quoted header is the DF datagram's",
  );
  // The cache: `ip route get` shows the learned MTU and its expiry.
  const route = n.h1.routeGet("10.3.0.30")!;
  assert.equal(route.mtu, 576);
  assert.equal(route.pmtuExpires, 600_000); // ms
  assert.equal(route.pmtuLocked, false);
  assert.equal(n.h1.routeGet("10.1.0.20")!.mtu, 1500, "per destination");
  assert.equal(count(n.r1, "ipv4.rx.fwd_frag_needed"), 1);
  assert.equal(count(n.h1, "icmp.rx.frag_needed"), 1);
  assert.equal(fromH1(n.mid.frames()).length, 0, "the DF datagram never crossed R1");
  await assertTsharkClean(n.lan1.bytes());
  n.finish();
});

Deno.test("pmtu once learned, a too-big DF send fails locally with message_too_long", async () => {
  const n = makeRoutedNet({ midMtu: 576 });
  await assert.rejects(n.run(() => n.h1.ping("10.3.0.30", { size: 1400, dontFragment: true })));
  const before = fromH1(n.lan1.frames()).length;
  await assert.rejects(
    n.run(() => n.h1.ping("10.3.0.30", { size: 1400, dontFragment: true })),
    (e: Error) => /cannot send to 10\.3\.0\.30: message too long/.test(e.message),
  );
  assert.equal(fromH1(n.lan1.frames()).length, before, "nothing sent");
  assert.equal(count(n.h1, "ipv4.tx.message_too_long"), 1);
  // 548 bytes of data + 8 + 20 = 576: fits with DF.
  const ok = await n.run(() => n.h1.ping("10.3.0.30", { size: 548, dontFragment: true }));
  assert.equal(ok.bytes, 548);
  n.finish();
});

Deno.test("pmtu once learned, a DF-clear datagram is fragmented by the sender to the path MTU", async () => {
  const n = makeRoutedNet({ midMtu: 576 });
  await assert.rejects(n.run(() => n.h1.ping("10.3.0.30", { size: 1400, dontFragment: true })));
  const mark = n.lan1.count;
  const reply = await n.run(() => n.h1.ping("10.3.0.30", { size: 1400 }));
  assert.equal(reply.bytes, 1400);
  const sent = fromH1(n.lan1.frames().slice(mark));
  assert.equal(sent.length, 3);
  assert.ok(sent.every((f) => f.length - 14 <= 576));
  assert.equal(count(n.r1, "ipv4.tx.fragmented"), 0, "R1 had nothing left to fragment");
  await assertTsharkClean(n.lan1.bytes());
  n.finish();
});

Deno.test("pmtu a learned path MTU expires after 10 minutes", async () => {
  const n = makeRoutedNet({ midMtu: 576 });
  await assert.rejects(n.run(() => n.h1.ping("10.3.0.30", { size: 1400, dontFragment: true })));
  n.runFor(599 * SECOND);
  assert.equal(n.h1.routeGet("10.3.0.30")!.mtu, 576);
  n.runFor(SECOND);
  const route = n.h1.routeGet("10.3.0.30")!;
  assert.equal(route.mtu, 1500);
  assert.equal(route.pmtuExpires, undefined);
  n.finish();
});
