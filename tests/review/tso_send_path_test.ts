/**
 * Review of session 13's TSO send path (2effa93, 66c45b8): a bulk write on
 * a TSO route is queued in chunks of one whole super-segment, and
 * `sendOne` ends a super-segment at such a chunk's end.
 *
 * Probes: the memory account when a write's large chunks cost more than the
 * one-MSS chunks the room was reckoned in; and a hand-made lossy peer that
 * acknowledges anywhere inside a 64 KiB chunk, leaves SACK holes, closes the
 * window and lowers the path MTU mid-stream (chunks larger than the new
 * super-segment), every buffer the stack recycles poisoned: each byte sent
 * must be the byte written.
 */
import assert from "node:assert/strict";
import { MILLISECOND } from "../../mod.ts";
import { poisonPool } from "../_poisoned_pool.ts";
import { pattern } from "../tcp/_tcp.ts";
import { fragNeededFromPeer, MSS, SUPER, tcpOf, tsoHost } from "../tcp/_tso_host.ts";

const KIB = 1024;

Deno.test("TSO review: a bulk write into the last few KB of a send buffer takes one-MSS chunks: the memory account stays within memoryHigh", () => {
  // The send buffer is filled with small writes (one-MSS chunks, 2 KiB
  // each) to 2 segments short of full, then a bulk write comes: the room
  // (2,896 bytes) was reckoned in one-MSS chunks (4 KiB), a super-segment
  // chunk for it costs 64.5 KiB.
  const sendBuffer = 42 * MSS;
  const high = 88 * KIB; // 42 one-MSS chunks (84 KiB) fit
  const h = tsoHost(5, { sendBuffer, memoryLow: 8 * KIB, memoryPressure: high, memoryHigh: high });
  try {
    const data = pattern(sendBuffer + SUPER);
    let written = 0;
    for (let i = 0; i < 4; i++) written += h.conn.write(data.subarray(written, written + 10 * MSS));
    assert.equal(written, 40 * MSS);
    written += h.conn.write(data.subarray(written, written + SUPER));
    assert.equal(written, sendBuffer, "the write took the buffer's last 2 segments");
    const peak = h.stack.counters.value("tcp.memory_peak");
    assert.ok(peak <= high, `memory peak ${peak} past memoryHigh ${high}`);
    // Everything still goes out, intact.
    let acked = 0;
    const got = new Uint8Array(data.length);
    for (let round = 0; round < 300 && acked < data.length; round++) {
      if (written < data.length) written += h.conn.write(data.subarray(written));
      h.net.runFor(MILLISECOND);
      for (const s of h.io.take().map(tcpOf)) {
        if (s === null || s.payload.length === 0) continue;
        const at = (s.seq - h.start) >>> 0;
        got.set(s.payload, at);
        if (at + s.payload.length > acked) acked = at + s.payload.length;
      }
      h.ack(acked);
    }
    assert.equal(acked, data.length, "everything sent");
    assert.deepEqual(got, data);
    const end = h.stack.counters.value("tcp.memory_peak");
    assert.ok(end <= high, `memory peak ${end} past memoryHigh ${high}`);
  } finally {
    h.close();
  }
});

/** A small seeded generator (mulberry32). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

for (const seed of [1, 2, 3, 4, 5, 6]) {
  Deno.test(`TSO review: lossy peer acking inside 64 KiB chunks, pieces of super-segments lost, SACK holes, a zero window and the path MTU lowered mid-stream: every byte sent is the byte written (seed ${seed})`, () => {
    const h = tsoHost(seed);
    poisonPool(h.stack.pool);
    const rnd = random(seed);
    try {
      const data = pattern(4 * SUPER + 3000);
      let written = h.conn.write(data);
      const have = new Uint8Array(data.length); // 1: the peer has the byte
      let cum = 0; // the peer's cumulative point
      let acked = 0; // what it acknowledged (may stay behind cum)
      let top = 0;
      let ptbSent = false;
      let zeroRounds = 0;
      for (let round = 0; round < 3000 && acked < data.length; round++) {
        if (written < data.length) written += h.conn.write(data.subarray(written));
        h.net.runFor(MILLISECOND);
        let lastData: Uint8Array | null = null;
        for (const frame of h.io.take()) {
          const s = tcpOf(frame);
          if (s === null || s.payload.length === 0) continue;
          const at = (s.seq - h.start) >>> 0;
          const end = at + s.payload.length;
          assert.ok(end <= written, `[${at}, ${end}) past the ${written} bytes written`);
          // The check of the whole test: sent bytes are the bytes written.
          const want = data.subarray(at, end);
          if (!s.payload.every((b, i) => b === want[i])) {
            const i = s.payload.findIndex((b, k) => b !== want[k]);
            assert.fail(
              `round ${round}: byte ${at + i} sent as ${s.payload[i]}, written ${want[i]}`,
            );
          }
          lastData = frame;
          // The link splits a super-segment: any of its pieces may be lost.
          for (let p = at; p < end; p += 1000) {
            if (rnd() < 0.06) continue;
            have.fill(1, p, Math.min(p + 1000, end));
            if (Math.min(p + 1000, end) > top) top = Math.min(p + 1000, end);
          }
        }
        while (cum < top && have[cum] === 1) cum++;
        // The path MTU drops once a few chunks are in flight.
        if (!ptbSent && lastData !== null && cum > SUPER / 2) {
          ptbSent = true;
          h.io.inject(fragNeededFromPeer(lastData, 1280));
        }
        // An ACK anywhere up to the cumulative point (inside a chunk).
        acked = rnd() < 0.3 ? acked + Math.floor(rnd() * (cum - acked + 1)) : cum;
        if (acked < cum && rnd() < 0.5) acked = cum;
        const blocks: [number, number][] = [];
        for (let i = cum; i < top && blocks.length < 3;) {
          while (i < top && have[i] === 0) i++;
          const l = i;
          while (i < top && have[i] === 1) i++;
          if (i > l) blocks.push([l, i]);
        }
        // Now and then a zero window for a few rounds (persist probes).
        if (zeroRounds === 0 && rnd() < 0.03) zeroRounds = 1 + Math.floor(rnd() * 5);
        const window = zeroRounds > 0 ? 0 : 65535;
        if (zeroRounds > 0) zeroRounds--;
        h.ack(acked, blocks, window);
        if (rnd() < 0.05) h.net.runFor(300 * MILLISECOND); // timeouts
      }
      assert.ok(ptbSent, "the path MTU was lowered");
      assert.ok(h.stack.counters.value("tcp.retrans_segs") > 0, "something was resent");
      assert.equal(acked, data.length, "everything acknowledged");
    } finally {
      h.close();
    }
  });
}

Deno.test("TSO review: a steady bulk writer topping up a full send buffer through partly filled super-segment chunks: bytes intact", () => {
  // The writer offers 128 KiB each millisecond to a 2-super-segment buffer
  // and the peer acknowledges at most 20 KiB a millisecond: after the first
  // fill every write finds only the room the last ACK made.
  const h = tsoHost(7, { sendBuffer: 2 * SUPER });
  try {
    const data = pattern(12 * SUPER);
    let written = 0, top = 0, acked = 0;
    const got = new Uint8Array(data.length);
    for (let round = 0; round < 1000 && acked < data.length; round++) {
      if (written < data.length) {
        written += h.conn.write(data.subarray(written, written + 128 * KIB));
      }
      h.net.runFor(MILLISECOND);
      for (const s of h.io.take().map(tcpOf)) {
        if (s === null || s.payload.length === 0) continue;
        const at = (s.seq - h.start) >>> 0;
        got.set(s.payload, at);
        if (at + s.payload.length > top) top = at + s.payload.length;
      }
      acked = Math.min(top, acked + 20 * KIB);
      h.ack(acked);
    }
    assert.equal(acked, data.length, "everything sent");
    assert.deepEqual(got, data);
  } finally {
    h.close();
  }
});

for (const seed of [21, 22, 23, 24]) {
  Deno.test(`TSO review: small writes, bulk writes (the sent tail sealed), urgent bytes and Nagle on and off, with pieces lost: the stream is the bytes written, in order (seed ${seed})`, () => {
    const h = tsoHost(seed);
    poisonPool(h.stack.pool);
    const rnd = random(seed);
    try {
      const stream = new Uint8Array(12 * SUPER);
      let queued = 0; // bytes of `stream` the socket took
      let next = 0; // the next byte value to write
      const have = new Uint8Array(stream.length);
      let cum = 0, top = 0;
      const offer = (n: number) => {
        const bytes = new Uint8Array(Math.min(n, stream.length - queued));
        for (let i = 0; i < bytes.length; i++) bytes[i] = (next + i * 7) & 0xff;
        const took = h.conn.write(bytes);
        stream.set(bytes.subarray(0, took), queued);
        queued += took;
        next = (next + 13) & 0xff;
      };
      for (
        let round = 0;
        round < 3000 && (cum < queued || queued < stream.length - 2 * SUPER);
        round++
      ) {
        const pick = rnd();
        if (queued < stream.length - 2 * SUPER) {
          if (pick < 0.3) offer(1 + Math.floor(rnd() * 3000));
          else if (pick < 0.6) offer(SUPER + Math.floor(rnd() * SUPER));
          else if (pick < 0.7 && h.conn.sendUrgent !== undefined && queued < stream.length) {
            const byte = Math.floor(rnd() * 256);
            if (h.conn.sendUrgent(byte) === 1) stream[queued++] = byte;
          } else if (pick < 0.8) h.conn.noDelay = !h.conn.noDelay;
        }
        h.net.runFor(MILLISECOND);
        for (const s of h.io.take().map(tcpOf)) {
          if (s === null || s.payload.length === 0) continue;
          const at = (s.seq - h.start) >>> 0;
          const end = at + s.payload.length;
          assert.ok(end <= queued, `[${at}, ${end}) past the ${queued} bytes written`);
          const want = stream.subarray(at, end);
          const i = s.payload.findIndex((b, k) => b !== want[k]);
          if (i >= 0) {
            assert.fail(
              `round ${round}: byte ${at + i} sent as ${s.payload[i]}, written ${want[i]}`,
            );
          }
          for (let p = at; p < end; p += 1000) {
            if (rnd() < 0.05) continue;
            const e = Math.min(p + 1000, end);
            have.fill(1, p, e);
            if (e > top) top = e;
          }
        }
        while (cum < top && have[cum] === 1) cum++;
        const blocks: [number, number][] = [];
        for (let i = cum; i < top && blocks.length < 3;) {
          while (i < top && have[i] === 0) i++;
          const l = i;
          while (i < top && have[i] === 1) i++;
          if (i > l) blocks.push([l, i]);
        }
        h.ack(cum, blocks);
        if (rnd() < 0.03) h.net.runFor(300 * MILLISECOND);
      }
      assert.ok(queued >= stream.length - 2 * SUPER, `only ${queued} bytes written`);
      assert.equal(cum, queued, "everything written arrived");
    } finally {
      h.close();
    }
  });
}

Deno.test("TSO review: a zero window with super-segment chunks queued: after everything sent was acknowledged, one-byte probes of the next byte, then the rest intact", () => {
  const h = tsoHost(31);
  poisonPool(h.stack.pool);
  try {
    const data = pattern(3 * SUPER);
    let written = h.conn.write(data.subarray(0, 2 * SUPER));
    const got = new Uint8Array(data.length);
    let top = 0;
    const receive = (window: number) => {
      for (const s of h.io.take().map(tcpOf)) {
        if (s === null || s.payload.length === 0) continue;
        const at = (s.seq - h.start) >>> 0;
        const want = data.subarray(at, at + s.payload.length);
        assert.ok(s.payload.every((b, i) => b === want[i]), `bytes at ${at} differ`);
        got.set(s.payload, at);
        if (at + s.payload.length > top) top = at + s.payload.length;
      }
      h.ack(top, [], window);
    };
    for (let round = 0; round < 100 && top < written; round++) {
      h.net.runFor(MILLISECOND);
      receive(65535);
    }
    assert.equal(top, written, "the first two chunks sent and acknowledged");
    h.ack(top, [], 0); // the window closes
    h.net.runFor(MILLISECOND);
    // Everything queued was sent: the emptied tail is sealed, the write starts a chunk.
    written += h.conn.write(data.subarray(written));
    let probes = 0;
    for (let round = 0; round < 40; round++) {
      h.net.runFor(500 * MILLISECOND);
      const frames = h.io.take();
      for (const s of frames.map(tcpOf)) {
        if (s === null || s.payload.length === 0) continue;
        assert.equal(s.payload.length, 1, "a zero-window probe is one byte");
        const at = (s.seq - h.start) >>> 0;
        assert.equal(at, top, "the first byte not acknowledged");
        assert.equal(s.payload[0], data[at]);
        probes++;
      }
      h.ack(top, [], 0);
    }
    assert.ok(probes >= 2, `${probes} probes`);
    for (let round = 0; round < 200 && top < written; round++) {
      h.ack(top, [], 65535);
      h.net.runFor(MILLISECOND);
      receive(65535);
    }
    assert.equal(top, data.length);
    assert.deepEqual(got, data);
  } finally {
    h.close();
  }
});

Deno.test("TSO review: the path MTU drops with one-MSS chunks in flight: the resent data goes in super-segments of whole new segments, not one 1448-byte super-segment (1,240 + a 208-byte runt) per old chunk", () => {
  const h = tsoHost(41);
  try {
    const data = pattern(150 * MSS);
    let written = 0;
    // Writes under a super-segment: one-MSS chunks.
    for (let i = 0; i < 15; i++) {
      written += h.conn.write(data.subarray(written, written + 10 * MSS));
    }
    h.net.runFor(MILLISECOND);
    let top = 0;
    let last: Uint8Array | null = null;
    for (const frame of h.io.take()) {
      const s = tcpOf(frame);
      if (s === null || s.payload.length === 0) continue;
      last = frame;
      top = Math.max(top, ((s.seq - h.start) >>> 0) + s.payload.length);
    }
    assert.ok(last !== null && top === 10 * MSS, "the initial window in flight");
    h.io.inject(fragNeededFromPeer(last, 1280));
    const newMss = 1280 - 40;
    const got = new Uint8Array(data.length);
    // Super-segments that end in a runt (the window's byte count may cut one).
    const runts: string[] = [];
    for (let round = 0; round < 100 && top < written; round++) {
      h.ack(top);
      h.net.runFor(MILLISECOND);
      for (const s of h.io.take().map(tcpOf)) {
        if (s === null || s.payload.length === 0) continue;
        const at = (s.seq - h.start) >>> 0;
        const end = at + s.payload.length;
        got.set(s.payload, at);
        if (s.payload.length > newMss && s.payload.length % newMss !== 0 && end !== written) {
          runts.push(`${s.payload.length} at ${at}`);
        }
        top = Math.max(top, end);
      }
    }
    assert.equal(top, written);
    assert.deepEqual(got.subarray(0, written), data.subarray(0, written));
    assert.ok(runts.length <= 2, `super-segments ending in a runt: ${runts.join(", ")}`);
  } finally {
    h.close();
  }
});
