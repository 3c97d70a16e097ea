/**
 * With TSO, a bulk write is queued in chunks of one whole super-segment
 * (output.ts's `sendChunkSize`), and a super-segment never crosses a
 * chunk's end (`sendOne`): so a full one is its chunk, sent without being
 * copied together from 45 one-MSS chunks (issue 13, `iperf3 -c -R`). On
 * the wire: each super-segment lies inside one 45-segment stretch of the
 * stream, full ones are 45 segments, and the bytes arrive intact.
 *
 * The peer is hand-made, as in tso_partial_checksum_test: frames in through
 * an InjectDriver with `tsoMaxSize`, every frame the stack sends ACKed at
 * once, so slow start's windows (10, 20, 40, … segments) would cross chunk
 * ends if nothing cut them there.
 */
import assert from "node:assert/strict";
import { MILLISECOND } from "../../mod.ts";
import { pattern } from "./_tcp.ts";
import { MSS, SUPER, tcpOf, tsoHost } from "./_tso_host.ts";

Deno.test("TSO: a bulk write's super-segments are whole chunks: none crosses a 45-segment boundary, full ones are 45 segments, bytes intact", () => {
  const h = tsoHost(3);
  try {
    const data = pattern(3 * SUPER + 5000);
    assert.equal(h.conn.write(data), data.length, "fits the default 256 KiB send buffer");
    const got = new Uint8Array(data.length);
    let acked = 0;
    const sizes: number[] = [];
    for (let round = 0; round < 100 && acked < data.length; round++) {
      h.net.runFor(MILLISECOND);
      for (const s of h.io.take().map(tcpOf)) {
        if (s === null || s.payload.length === 0) continue;
        const at = (s.seq - h.start) >>> 0;
        const end = at + s.payload.length;
        assert.ok(end <= data.length, "past the data written");
        got.set(s.payload, at);
        if (s.payload.length > MSS) {
          sizes.push(s.payload.length);
          assert.equal(
            Math.floor(at / SUPER),
            Math.floor((end - 1) / SUPER),
            `super-segment [${at}, ${end}) crosses a chunk end (every ${SUPER} bytes)`,
          );
        }
        if (end > acked) acked = end;
      }
      h.ack(acked);
    }
    assert.equal(acked, data.length, "everything sent");
    assert.deepEqual(got, data);
    assert.ok(sizes.includes(SUPER), `no full super-segment among ${sizes.join(", ")}`);
  } finally {
    h.close();
  }
});

Deno.test("TSO: under the memory limit a bulk write keeps one-MSS chunks: the account stays within memoryHigh and the minimum store", () => {
  const KIB = 1024;
  // Far below one 64 KiB chunk: a super-segment chunk would overshoot it.
  const h = tsoHost(4, { memoryLow: 8 * KIB, memoryPressure: 16 * KIB, memoryHigh: 24 * KIB });
  try {
    const data = pattern(3 * SUPER);
    let written = 0;
    for (let round = 0; round < 100 && written < data.length; round++) {
      written += h.conn.write(data.subarray(written));
      h.net.runFor(MILLISECOND);
      h.io.take();
      // Nothing acknowledged for a while: the queue fills to what memory allows.
      if (round % 10 === 9) h.ack(written);
    }
    const peak = h.stack.counters.value("tcp.memory_peak");
    assert.ok(peak <= 24 * KIB + 4 * KIB, `memory peak ${peak}`);
    assert.ok(written > 0);
  } finally {
    h.close();
  }
});
