import assert from "node:assert/strict";
import { encodeBpf, macFilter, runBpf } from "./bpf.ts";

const MAC = new Uint8Array([0x02, 0x00, 0x5e, 0x00, 0x00, 0x17]);
const PACKET_HOST = 0, PACKET_BROADCAST = 1, PACKET_MULTICAST = 2, PACKET_OTHERHOST = 3;
const PACKET_OUTGOING = 4;

function frame(dst: readonly number[], length = 60): Uint8Array {
  const f = new Uint8Array(length);
  f.set(dst);
  f.set([0x02, 0, 0, 0, 0, 1], 6); // source
  return f;
}

Deno.test("macFilter() accepts frames to the stack's MAC", () => {
  assert.equal(runBpf(macFilter(MAC), frame([...MAC]), PACKET_OTHERHOST), 0x40000);
  assert.equal(runBpf(macFilter(MAC), frame([...MAC]), PACKET_HOST), 0x40000);
});

Deno.test("macFilter() accepts broadcast and multicast", () => {
  const prog = macFilter(MAC);
  assert.equal(
    runBpf(prog, frame([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), PACKET_BROADCAST),
    0x40000,
  );
  assert.equal(runBpf(prog, frame([0x01, 0x00, 0x5e, 0, 0, 1]), PACKET_MULTICAST), 0x40000);
  assert.equal(runBpf(prog, frame([0x33, 0x33, 0, 0, 0, 1]), PACKET_MULTICAST), 0x40000);
});

Deno.test("macFilter() drops unicast to any other MAC, differing in any byte", () => {
  const prog = macFilter(MAC);
  for (let i = 0; i < 6; i++) {
    const dst = [...MAC];
    dst[i] = dst[i]! ^ (i === 0 ? 0x04 : 0x01); // keep the group bit clear
    assert.equal(runBpf(prog, frame(dst), PACKET_OTHERHOST), 0, `byte ${i}`);
  }
});

Deno.test("macFilter() drops this host's own frames, even broadcast", () => {
  const prog = macFilter(MAC);
  assert.equal(runBpf(prog, frame([...MAC]), PACKET_OUTGOING), 0);
  assert.equal(runBpf(prog, frame([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), PACKET_OUTGOING), 0);
});

Deno.test("macFilter() drops frames too short to hold a destination MAC", () => {
  const prog = macFilter(MAC);
  for (let n = 0; n < 6; n++) assert.equal(runBpf(prog, frame([...MAC]).subarray(0, n), 0), 0);
});

Deno.test("macFilter() rejects a MAC that is not 6 bytes", () => {
  assert.throws(() => macFilter(new Uint8Array(5)), TypeError);
});

Deno.test("encodeBpf() writes struct sock_filter in host order", () => {
  const bytes = encodeBpf(macFilter(MAC));
  assert.equal(bytes.length, 10 * 8);
  // Instruction 0: ld [SKF_AD_OFF + SKF_AD_PKTTYPE]: code 0x0020, jt 0, jf 0, k 0xfffff004.
  assert.deepEqual([...bytes.subarray(0, 8)], [0x20, 0x00, 0, 0, 0x04, 0xf0, 0xff, 0xff]);
  // Instruction 7: jeq #0x0200 (MAC bytes 0..1), jt 0, jf 1.
  assert.deepEqual([...bytes.subarray(56, 64)], [0x15, 0x00, 0, 1, 0x00, 0x02, 0, 0]);
});
