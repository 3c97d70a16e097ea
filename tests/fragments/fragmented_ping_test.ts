import assert from "node:assert/strict";
import type { Ipv4Service } from "../../mod.ts";
import { checkEthernet, checkIpv4, framesMatching } from "../_harness.ts";
import { assertTsharkClean } from "../_tshark.ts";
import { count, makeRoutedNet } from "../routing/_topology.ts";

interface Fragment {
  id: number;
  offset: number;
  mf: boolean;
  length: number;
}

/** The IPv4 fragments from `src` to `dst` among `frames`. */
function fragments(frames: Uint8Array[], src: string, dst: string): Fragment[] {
  return framesMatching(
    frames,
    checkEthernet({ etherType: 0x0800 }, checkIpv4({ src, dst, protocol: 1 })),
  )
    .map((f) => {
      const dv = new DataView(f.buffer, f.byteOffset + 14);
      const word = dv.getUint16(6);
      return {
        id: dv.getUint16(4),
        offset: (word & 0x1fff) * 8,
        mf: (word & 0x2000) !== 0,
        length: dv.getUint16(2),
      };
    })
    .filter((f) => f.mf || f.offset > 0);
}

Deno.test("fragments a 4000-byte ping crosses a 576-byte link: fragmented, re-fragmented, reassembled both ways", async () => {
  const n = makeRoutedNet({ midMtu: 576 });
  const reply = await n.run(() => n.h1.ping("10.3.0.30", { size: 4000 }));
  assert.equal(reply.bytes, 4000);
  assert.equal(reply.from, "10.3.0.30");
  // H1 sends 4008 bytes of ICMP as 1480 + 1480 + 1048.
  const out = fragments(n.lan1.frames(), "10.1.0.10", "10.3.0.30");
  assert.deepEqual(out.map((f) => [f.offset, f.length, f.mf]), [
    [0, 1500, true],
    [1480, 1500, true],
    [2960, 1068, false],
  ]);
  assert.equal(new Set(out.map((f) => f.id)).size, 1, "one identification for all");
  // R1 cuts each to 552-byte pieces for the middle link: 3 + 3 + 2.
  const mid = fragments(n.mid.frames(), "10.1.0.10", "10.3.0.30");
  assert.deepEqual(mid.map((f) => f.offset), [0, 552, 1104, 1480, 2032, 2584, 2960, 3512]);
  assert.ok(mid.every((f) => f.length <= 576));
  assert.deepEqual(mid.map((f) => f.mf), [true, true, true, true, true, true, true, false]);
  // H3 receives the 8 pieces, reassembles, and its 4008-byte reply is fragmented in turn.
  assert.equal(count(n.h3, "ipv4.rx.fragments"), 8);
  assert.equal(count(n.h3, "ipv4.rx.reassembled"), 1);
  assert.equal(fragments(n.lan3.frames(), "10.3.0.30", "10.1.0.10").length, 3);
  assert.equal(fragments(n.mid.frames(), "10.3.0.30", "10.1.0.10").length, 8);
  assert.equal(fragments(n.lan1.frames(), "10.3.0.30", "10.1.0.10").length, 8);
  assert.equal(count(n.h1, "ipv4.rx.reassembled"), 1);
  assert.equal(count(n.r1, "ipv4.tx.fragmented"), 3);
  assert.equal(count(n.r2, "ipv4.tx.fragmented"), 3);
  for (const cap of [n.lan1, n.mid, n.lan3]) await assertTsharkClean(cap.bytes());
  n.finish();
});

Deno.test("fragments the largest ping (65,507 bytes) is reassembled across two routers", async () => {
  const n = makeRoutedNet({ midMtu: 576 });
  // No ARP entry anywhere yet: every hop queues the fragments while it
  // resolves the next one (the queue is bounded in bytes, like Linux's).
  const reply = await n.run(() => n.h1.ping("10.3.0.30", { size: 65507 }));
  assert.equal(reply.bytes, 65507);
  assert.equal(count(n.h3, "ipv4.rx.reassembled"), 1);
  assert.equal(count(n.h1, "ipv4.rx.reassembled"), 1);
  n.finish();
});

Deno.test("fragments a datagram over 65,535 bytes is refused before sending", async () => {
  const n = makeRoutedNet();
  await assert.rejects(n.run(() => n.h1.ping("10.3.0.30", { size: 65508 })), RangeError);
  const ipv4 = n.h1.service<Ipv4Service>("ipv4.send")!;
  assert.equal(ipv4.send(n.h1.pool.alloc(65516), 0, 0x0a03001e, 253, 0, 0), "message_too_long");
  assert.equal(ipv4.send(n.h1.pool.alloc(65515), 0, 0x0a03001e, 253, 0, 0), undefined);
  n.runFor(0);
  assert.equal(count(n.h1, "ipv4.tx.fragments"), 45);
  n.finish();
});
