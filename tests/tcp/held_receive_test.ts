/**
 * Review of the held receive queue (rcv_queue.ts): a connection fed 40 KB
 * or 1,448-byte segments (pooled, held instead of copied) must give the
 * application the same bytes, urgent byte and errors as one fed 1,000-byte
 * segments (under half their 2 KiB buffer: copied into the ring), through
 * out-of-order data, partial reads, an urgent pointer inside a held
 * segment, and an end with unread data (RST, the user's close, the stack's
 * close); and every held buffer goes back to its pool.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { ipv4Packet, makeLink, ms } from "../_harness.ts";
import { source } from "./_transfer.ts";
import {
  fromPeer,
  type PassiveConn,
  passiveOpen,
  pattern,
  Peer,
  tcpChecksum,
  tcpSegment,
} from "./_tcp.ts";
import type { Seg, TcpFields } from "./_tcp.ts";
import type { PacketBuffer } from "../../stack/packet.ts";

const TOTAL = 160_000;
const URGENT_AT = 30_000; // the urgent byte's offset in the stream

/** Injects `f` with urgent pointer field `urgent` (URG flag in `f.flags`). */
function sendUrg(peer: Peer, f: TcpFields, urgent: number): void {
  const seg = tcpSegment({ ...f, checksum: 0 }, peer.addr, peer.stackAddr);
  seg[18] = urgent >> 8;
  seg[19] = urgent & 255;
  seg[16] = seg[17] = 0;
  const c = tcpChecksum(seg, peer.addr, peer.stackAddr);
  seg[16] = c >> 8;
  seg[17] = c & 255;
  peer.host.inject(ipv4Packet({ src: peer.addr, dst: peer.stackAddr, protocol: 6 }, seg));
}

/** Sends stream bytes `from..to` in `size`-byte segments; the one holding URGENT_AT carries URG. */
function sendRange(peer: Peer, p: PassiveConn, from: number, to: number, size: number): void {
  const data = pattern(TOTAL);
  for (let at = from; at < to; at += size) {
    const end = Math.min(to, at + size);
    const f = fromPeer(p, { seq: p.peerNxt + at, flags: "P.", payload: data.subarray(at, end) });
    if (URGENT_AT >= at && URGENT_AT < end) {
      sendUrg(peer, { ...f, flags: "P.U" }, URGENT_AT + 1 - at); // RFC 6093: past the byte
    } else peer.send(f);
  }
}

type Ending = "rst" | "close" | "stack_close";

interface Outcome {
  readonly urgent: number | null;
  readonly bytes: number[];
  readonly error: string;
  readonly heldSeen: number;
}

async function scenario(size: number, ending: Ending): Promise<Outcome> {
  const peer = new Peer({ mtu: 65535 });
  const p = await passiveOpen(peer, 80, 40000, { mss: 65495, wscale: 7 });
  p.conn.setOobInline(false);
  // In order, with the urgent byte inside; then a range ahead of a hole, then the hole.
  sendRange(peer, p, 0, 80_000, size);
  sendRange(peer, p, 120_000, TOTAL, size);
  sendRange(peer, p, 80_000, 120_000, size);
  const heldSeen = peer.stack.pool.held;
  const out: number[] = [];
  const buf = new Uint8Array(7_777);
  // A partial read that stops inside a held segment.
  const n = await p.conn.read(buf);
  out.push(...buf.subarray(0, n ?? 0));
  const urgent = p.conn.readUrgent();
  let error = "";
  if (ending === "rst") {
    peer.send(fromPeer(p, { seq: p.peerNxt + TOTAL, flags: "R" }));
  } else if (ending === "stack_close") {
    peer.stack.close();
  }
  if (ending === "close") {
    p.conn.close();
  } else {
    try {
      for (let r = await p.conn.read(buf); r !== null; r = await p.conn.read(buf)) {
        out.push(...buf.subarray(0, r));
      }
    } catch (e) {
      error = (e as Error).name;
    }
    p.conn.close();
  }
  p.listener.close();
  assert.equal(peer.stack.pool.held, 0, "every held buffer went back to its pool");
  peer.finish(); // no buffer leaked
  return { urgent, bytes: out, error, heldSeen };
}

for (const size of [40_000, 1448]) {
  for (const ending of ["rst", "close", "stack_close"] as const) {
    Deno.test(`tcp held receive queue: ${size}-byte held segments read as 1,000-byte copied ones (out of order, urgent, ${ending} with unread data)`, async () => {
      const copied = await scenario(1_000, ending);
      const held = await scenario(size, ending);
      assert.equal(held.urgent, copied.urgent);
      assert.equal(held.error, copied.error);
      assert.equal(held.bytes.length, copied.bytes.length);
      assert.deepEqual(held.bytes, copied.bytes);
      // And the copied path is what the stream says: the urgent byte out of line.
      const want = [...pattern(TOTAL)];
      want.splice(URGENT_AT, 1);
      assert.deepEqual(copied.bytes, want.slice(0, copied.bytes.length));
      assert.equal(copied.urgent, URGENT_AT % 251);
      assert.equal(copied.heldSeen, 0);
      assert.ok(held.heldSeen > 0, `the ${size}-byte segments were held`);
    });
  }
}

for (const mtu of [65535, 1500]) {
  Deno.test(`tcp held receive queue: two stacks at MTU ${mtu}, a reader that waits while the window fills gets the exact stream (the sender's buffers held)`, async () => {
    const env = makeLink({
      seed: 3,
      mtu,
      faults: { delay: ms(1) },
      withoutPlugins: ["ndp", "mld", "slaac"],
      plugins: { tcp: { receiveBuffer: 1 << 20 } },
    });
    try {
      const l = env.b.listen({ port: 9000 });
      let mostHeld = 0;
      await env.run(async () => {
        const [c, s] = await Promise.all([
          env.a.connect({ hostname: "10.0.0.2", port: 9000 }),
          l.accept(),
        ]);
        const total = 8 * 1024 * 1024;
        // The reader starts once the sender has written 1 MiB: by then b's
        // window is nearly full of held segments, and a went on
        // allocating buffers for the segments behind them.
        let windowFull!: () => void;
        const filled = new Promise<void>((r) => windowFull = r);
        const sender = (async () => {
          const h = createHash("sha256");
          let written = 0;
          for (const chunk of source(5, total)) {
            for (let off = 0; off < chunk.length;) off += await c.write(chunk.subarray(off));
            h.update(chunk);
            written += chunk.length;
            if (written >= 1 << 20) windowFull();
          }
          await c.closeWrite();
          return h.digest("hex");
        })();
        const reader = (async () => {
          await filled;
          mostHeld = env.a.pool.held; // the sender's buffers, held by b
          const h = createHash("sha256");
          const buf = new Uint8Array(1_337);
          let bytes = 0;
          for (let n = await s.read(buf); n !== null; n = await s.read(buf)) {
            h.update(buf.subarray(0, n));
            bytes += n;
          }
          return { hash: h.digest("hex"), bytes };
        })();
        const [sent, got] = await Promise.all([sender, reader]);
        assert.equal(got.bytes, total);
        assert.equal(got.hash, sent, "no held byte was overwritten before it was read");
        c.close();
        s.close();
      }, { timeout: 600_000_000 });
      l.close();
      env.runFor(ms(200_000));
      assert.ok(mostHeld > 1, `b held ${mostHeld} of a's buffers at once`);
      assert.equal(env.a.pool.held + env.b.pool.held, 0);
      env.finish();
    } finally {
      env.close();
    }
  });
}

/**
 * The last ACK's (ack, window) after each step of filling the receive
 * buffer to a zero window in `size`-byte segments (on a link of `mtu`) and
 * reading it out.
 */
async function windowSteps(
  holds: boolean,
  size: number,
  mtu: number,
): Promise<{ steps: string[]; heldSeen: number }> {
  const peer = new Peer({ mtu });
  // Without holds: the pool's hold budget is used up first, so every
  // segment is copied into the ring (same segments, same timing).
  const pool = peer.stack.pool;
  const taken: PacketBuffer[] = [];
  while (!holds) {
    const pkt = pool.alloc(size);
    if (!pkt.hold()) {
      pkt.release();
      break;
    }
    pkt.release(); // as the dispatcher does: the hold keeps it
    taken.push(pkt);
  }
  const p = await passiveOpen(peer, 80, 40000, { mss: mtu - 40, wscale: 7 });
  const data = pattern(600_000);
  const steps: string[] = [];
  let heldSeen = 0;
  let seen: Seg[] = [];
  const send = (from: number, to: number) => {
    for (let at = from; at < to; at += size) {
      const end = Math.min(to, at + size);
      seen.push(
        ...peer.send(
          fromPeer(p, { seq: p.peerNxt + at, flags: "P.", payload: data.subarray(at, end) }),
        ),
      );
      heldSeen = Math.max(heldSeen, pool.held - taken.length);
    }
  };
  const last = () => {
    seen.push(...peer.wait(ms(500)));
    const a = seen.at(-1);
    steps.push(a === undefined ? "none" : `ack ${a.ack - p.peerNxt} win ${a.window}`);
    seen = [];
  };
  const unread = () => peer.info(40000)!.recvQ;
  const read = async (n: number) => {
    const buf = new Uint8Array(n);
    for (let got = 0; got < n;) got += (await p.conn.read(buf.subarray(got))) ?? n;
  };
  send(0, 200_000);
  last();
  await read(100_000);
  last();
  send(200_000, 100_000 + 262_144); // to the buffer's edge (tcp receiveBuffer's default)
  last();
  steps.push(`unread ${unread()}`);
  await read(unread());
  last();
  p.conn.close();
  p.listener.close();
  for (const pkt of taken) pkt.releaseHeld();
  assert.equal(pool.held, 0);
  peer.finish();
  return { steps, heldSeen };
}

for (const [size, mtu] of [[40_000, 65535], [1448, 1500]] as const) {
  Deno.test(`tcp held receive queue: filled to a zero window and read out, ${size}-byte segments held advertise the windows they do copied (the pool's holds used up)`, async () => {
    const copied = await windowSteps(false, size, mtu);
    const held = await windowSteps(true, size, mtu);
    assert.deepEqual(held.steps, copied.steps);
    assert.equal(copied.steps[3], "unread 262144", "filled to the buffer's size"); // window: the rounding only
    assert.equal(copied.heldSeen, 0);
    assert.ok(held.heldSeen > 0);
  });
}
