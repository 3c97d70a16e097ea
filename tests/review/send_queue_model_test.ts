/**
 * The TCP send queue (stack/protocols/tcp/send_queue.ts) against a model:
 * seeded random writes, acknowledgements, MSS changes (PMTU) and segments
 * at aligned and unaligned offsets, while the chunks it sends whole go to a
 * "driver" that writes headers into their headroom and then drops them or
 * hands them to a "receiver" that holds them for a while. Every pool
 * poisons what it takes back and fails on a double recycle. Checked at
 * every step: each segment carries exactly the bytes written at its
 * offset; a chunk's payload never changes while a driver or receiver has
 * it; the account equals the buffers kept; and everything goes back at the
 * end. Session 12's sharing (cc5de63, 397b0d8) is where such bugs would be
 * silent corruption.
 */
import assert from "node:assert/strict";
import type { PacketBuffer } from "../../stack/packet.ts";
import {
  CHUNK_HEADROOM,
  chunkBufferSize,
  SendQueue,
} from "../../stack/protocols/tcp/send_queue.ts";
import { xorshift32 } from "../_random.ts";
import { poisonedPool } from "../_poisoned_pool.ts";

const MAX = 48 * 1024;
// MTU 1500 (IPv4, IPv6), a clamped MSS, the default 536, a jumbo frame's (medium buffers).
const MSS_CHOICES = [1448, 1428, 1200, 1000, 536, 8948];

/** A segment a driver, then maybe a receiver, has: its bytes as sent. */
interface InFlight {
  pkt: PacketBuffer;
  payload: Uint8Array; // the copy taken when it was sent
  stage: "driver" | "held";
}

function checkUnchanged(f: InFlight, what: string): void {
  const now = f.pkt.buf.subarray(CHUNK_HEADROOM, CHUNK_HEADROOM + f.payload.length);
  assert.deepEqual(now, f.payload, `${what}: a chunk's payload changed while it was in flight`);
}

function runSeed(seed: number, steps: number): { zeroCopy: number; copies: number } {
  const rnd = xorshift32(seed);
  const below = (n: number) => rnd() % n;
  const pool = poisonedPool();
  const account = {
    total: 0,
    charge(d: number) {
      this.total += d;
    },
  };
  const copies = { value: 0 };
  const q = new SendQueue(MAX, pool, account, copies);
  q.chunkSize = MSS_CHOICES[below(MSS_CHOICES.length)]!;
  // The stream: every byte written; `una` is the first unacknowledged one.
  let stream = new Uint8Array(1 << 16);
  let written = 0;
  let una = 0;
  let nxt = 0; // SND.NXT
  let sentEnds: number[] = []; // where segments sent so far end (ACKs land there)
  const inFlight: InFlight[] = [];
  let zeroCopy = 0;
  const expectAt = (offset: number, n: number) => stream.subarray(una + offset, una + offset + n);

  for (let step = 0; step < steps; step++) {
    const op = below(100);
    if (op < 25) {
      // The application writes.
      const n = below(6000);
      const src = new Uint8Array(n);
      for (let i = 0; i < n; i++) src[i] = rnd() & 0xff;
      const taken = q.write(src);
      assert.equal(taken, Math.min(n, MAX - (written - una)));
      if (written + taken > stream.length) {
        const grown = new Uint8Array(2 * (written + taken));
        grown.set(stream.subarray(0, written));
        stream = grown;
      }
      stream.set(src.subarray(0, taken), written);
      written += taken;
    } else if (op < 28) {
      q.chunkSize = MSS_CHOICES[below(MSS_CHOICES.length)]!; // PMTU, or the peer's MSS
    } else if (op < 55 && q.length > 0) {
      // A segment as TCP cuts them: new data from SND.NXT, a retransmission
      // from SND.UNA; sometimes at any offset (a SACK hole).
      const mss = q.chunkSize;
      if (nxt < una) nxt = una;
      const kind = below(8);
      let offset = kind < 5 && nxt < written ? nxt - una : kind < 7 ? 0 : below(q.length);
      if (offset >= q.length) offset = q.length - 1;
      const n = Math.min(mss, q.length - offset);
      if (una + offset + n > nxt) nxt = una + offset + n;
      const pkt = q.segmentChunk(offset, n);
      if (pkt === null) {
        sentEnds.push(una + offset + n);
        const out = new Uint8Array(n + 7).fill(0x55);
        q.peek(offset, out, 7, n);
        assert.deepEqual(out.subarray(7), expectAt(offset, n), `peek at ${offset}+${n}`);
        continue;
      }
      zeroCopy++;
      assert.equal(pkt.start, CHUNK_HEADROOM);
      assert.equal(pkt.length, n);
      const payload = pkt.data.slice();
      assert.deepEqual(payload, expectAt(offset, n), `chunk at ${offset}+${n}`);
      // TCP, IP and Ethernet headers go in front, written over whatever was there.
      const hl = 32 + 20 + 14;
      pkt.start -= hl;
      for (let i = 0; i < hl; i++) pkt.buf[pkt.start + i] = rnd() & 0xff;
      inFlight.push({ pkt, payload, stage: "driver" });
      sentEnds.push(una + offset + n);
    } else if (op < 75 && inFlight.length > 0) {
      // A driver or receiver moves on; headers may be rewritten in place on
      // the way (NAT, a completed checksum, a VLAN tag), never the payload.
      const k = below(inFlight.length);
      const f = inFlight[k]!;
      checkUnchanged(f, `seed ${seed} step ${step}`);
      const h = f.pkt.start;
      f.pkt.buf[h + below(CHUNK_HEADROOM - h)]! ^= 0xff;
      if (f.stage === "driver") {
        if (below(2) === 0 && f.pkt.hold()) {
          f.pkt.release(); // the receiving dispatcher's release: the receive queue keeps it
          f.stage = "held";
        } else {
          f.pkt.release(); // lost, or received and copied
          inFlight.splice(k, 1);
        }
      } else {
        f.pkt.releaseHeld(); // read
        inFlight.splice(k, 1);
      }
    } else if (op < 92 && q.length > 0) {
      // An acknowledgement, mostly at a segment's end.
      const end = sentEnds.length > 0 ? sentEnds[below(sentEnds.length)]! : 0;
      const n = below(5) !== 0 && end > una ? end - una : 1 + below(q.length);
      sentEnds = sentEnds.filter((e) => e > una + n);
      q.discard(n);
      una += n;
    } else if (op < 94) {
      q.release(); // idle (a no-op unless nothing is queued)
    }
    assert.equal(q.length, written - una);
    assert.equal(account.total, q.allocated, "the account is the buffers kept");
    const biggest = Math.max(...MSS_CHOICES.map(chunkBufferSize));
    assert.ok(q.allocated <= 2 * MAX + 2 * biggest, `${q.allocated} bytes kept`);
    if (step % 16 === 0 && q.length > 0) {
      const all = new Uint8Array(q.length);
      q.peek(0, all, 0, q.length);
      assert.deepEqual(all, expectAt(0, q.length), `seed ${seed} step ${step}: the queue's bytes`);
    }
  }
  for (const f of inFlight) checkUnchanged(f, `seed ${seed} end`);
  q.dispose();
  assert.equal(account.total, 0);
  for (const f of inFlight) {
    checkUnchanged(f, `seed ${seed} after dispose`);
    if (f.stage === "driver") f.pkt.release();
    else f.pkt.releaseHeld();
  }
  assert.equal(pool.outstanding, 0, `seed ${seed}: buffers not back`);
  assert.equal(pool.held, 0);
  return { zeroCopy, copies: copies.value };
}

Deno.test("review13 SendQueue model: 60 seeds of writes, ACKs, MSS changes and in-flight chunks keep every byte", () => {
  let zeroCopy = 0, copies = 0;
  const deadline = performance.now() + 60_000;
  for (let seed = 1; seed <= 60 && performance.now() < deadline; seed++) {
    const r = runSeed(seed, 1500);
    zeroCopy += r.zeroCopy;
    copies += r.copies;
  }
  assert.ok(zeroCopy > 500, `${zeroCopy} segments went as chunks`);
  assert.ok(copies > 100, `${copies} chunks refused while someone had them`);
});
