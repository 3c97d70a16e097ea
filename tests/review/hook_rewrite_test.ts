/**
 * review15, risk 2: hooks that rewrite a packet in place while its payload
 * is shared. A TCP segment sent uncopied is its send queue's chunk
 * (`PacketBuffer.share`); the in-memory link hands that buffer itself to
 * the receiving stack. A hook writing to the payload (a mangle hook, an
 * application-level gateway) then writes to the send queue's bytes, and a
 * retransmission of that segment carries them rewritten twice. Header
 * rewrites (NAT's ports and checksums) are safe: TCP writes every header
 * anew when it sends a chunk again.
 *
 * The mangle here swaps the 16-bit words of each 4-byte group of a TCP
 * payload: its own inverse, and neutral to the Internet checksum, so only
 * a second application shows.
 */
import assert from "node:assert/strict";
import {
  ACCEPT,
  conntrackPlugin,
  type HookPoint,
  natPlugin,
  PacketBuffer,
  type ProtocolPlugin,
} from "../../mod.ts";
import { MILLISECOND } from "../../mod.ts";
import { makeLink, ms, type PluginOptions } from "../_harness.ts";
import { fragNeededFromPeer, frameFromPeer, MSS, SUPER, tcpOf, tsoHost } from "../tcp/_tso_host.ts";
import { poisonPool } from "../_poisoned_pool.ts";
import { receiveAll, sendAll } from "../tcp/_transfer.ts";

const PORT = 48003;
const TOTAL = 400_000;
const RUN = { timeout: 120_000_000 };

/** Swaps the two 16-bit words of every whole 4-byte group from `at` to `end`. */
function swapWords(buf: Uint8Array, at: number, end: number): void {
  for (let i = at; i + 4 <= end; i += 4) {
    const a = buf[i]!, b = buf[i + 1]!;
    buf[i] = buf[i + 2]!;
    buf[i + 1] = buf[i + 3]!;
    buf[i + 2] = a;
    buf[i + 3] = b;
  }
}

/** Where the TCP payload to `port` starts in `pkt` (IPv4 at `pkt.start`), or -1. */
function payloadAt(pkt: PacketBuffer, port: number): number {
  const b = pkt.buf, ip = pkt.start;
  if (pkt.end - ip < 40 || b[ip]! >> 4 !== 4 || b[ip + 9] !== 6) return -1;
  const tcp = ip + (b[ip]! & 15) * 4;
  if (pkt.dv.getUint16(tcp + 2) !== port) return -1;
  return tcp + (b[tcp + 12]! >> 4) * 4;
}

interface MangleOptions {
  /** The sender's postrouting swaps (the receiver's prerouting swaps back). */
  readonly sender: boolean;
  /**
   * The receiver's prerouting swaps and its input swaps back, but drops
   * every n-th segment in between (as a filter after a decoder).
   */
  readonly dropEvery?: number;
  /** The destination port of the segments it swaps (default `PORT`). */
  readonly port?: number;
}

/**
 * A middlebox plugin swapping words of the payload of TCP segments to
 * `PORT` (loaded on both hosts: only the sender sends such segments, only
 * the receiver receives them).
 */
function mangle(options: MangleOptions): ProtocolPlugin {
  const points: HookPoint[] = ["prerouting"];
  if (options.sender) points.push("postrouting");
  if (options.dropEvery !== undefined) points.push("input");
  return {
    manifest: {
      name: "mangle",
      version: "1.0.0",
      api: "^1.0.0",
      description: "swaps payload words of one port's TCP segments",
      layer: "middlebox",
      binds: [],
      hooks: points.map((point) => ({ point })),
      counters: options.dropEvery !== undefined ? ["input.dropped_for_test"] : [],
    },
    setup() {
      let seen = 0;
      return {
        hook(point: HookPoint, pkt: PacketBuffer) {
          const at = payloadAt(pkt, options.port ?? PORT);
          if (at < 0 || at >= pkt.end) return ACCEPT;
          if (point === "input" && ++seen % options.dropEvery! === 0) return "dropped_for_test";
          pkt.makeWritable(at, pkt.end); // the bytes may be a TCP send queue's
          swapWords(pkt.buf, at, pkt.end);
          return ACCEPT;
        },
      };
    },
  };
}

/** Counts the copies `PacketBuffer.makeWritable` makes while `fn` runs. */
async function countingCopies<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const proto = PacketBuffer.prototype;
  const original = proto.makeWritable;
  let copies = 0;
  proto.makeWritable = function (this: PacketBuffer, from?: number, to?: number) {
    const copied = original.call(this, from, to);
    if (copied) copies++;
    return copied;
  };
  try {
    return [await fn(), copies];
  } finally {
    proto.makeWritable = original;
  }
}

interface Outcome {
  sent: string;
  got: { hash: string; bytes: number };
  retrans: number;
  copies: number;
  /** Flows a's NAT source-translated and b's destination-translated (0 without NAT). */
  natFlows: [number, number];
}

/**
 * a connects to b at `port` and sends `TOTAL` bytes over `faults` (a->b),
 * both stacks' pools poisoned: a buffer given back while the other stack
 * or a send queue still had it reads as 0xee.
 */
function transfer(
  seed: number,
  faults: Record<string, unknown>,
  plugins: { extra: ProtocolPlugin[]; options?: PluginOptions; port?: number },
): Promise<Outcome> {
  return countingCopies(async () => {
    const env = makeLink({
      seed,
      directions: { "a->b": faults, "b->a": { delay: ms(1) } },
      extraPlugins: plugins.extra,
      ...(plugins.options ? { plugins: plugins.options } : {}),
    });
    for (const pool of [env.a.pool, env.b.pool, env.net.pool]) poisonPool(pool);
    const l = env.b.listen({ port: PORT });
    const port = plugins.port ?? PORT;
    let out!: Omit<Outcome, "copies" | "natFlows">;
    await env.run(async () => {
      const [c, s] = await Promise.all([
        env.a.connect({ hostname: "10.0.0.2", port }),
        l.accept(),
      ]);
      const [sent, got] = await Promise.all([sendAll(c, seed, TOTAL), receiveAll(s)]);
      const retrans = env.a.sockets().find((x) => x.remote === `10.0.0.2:${port}`)?.retrans ?? 0;
      out = { sent, got, retrans };
      c.close();
      s.close();
    }, RUN);
    env.runFor(ms(70_000));
    l.close();
    const natFlows: [number, number] = [
      env.a.counters.value("nat.flow.snat"),
      env.b.counters.value("nat.flow.dnat"),
    ];
    env.finish();
    return { ...out, natFlows };
  }).then(([o, copies]) => ({ ...o, copies }));
}

Deno.test("review15 hooks: a sender's postrouting mangle undone by the receiver's prerouting, over a lossy link: every byte arrives as written", async () => {
  for (const seed of [21, 22]) {
    const o = await transfer(seed, { delay: ms(1), loss: 0.03 }, {
      extra: [mangle({ sender: true })],
    });
    assert.ok(o.retrans > 0, "segments were resent");
    assert.ok(o.copies > 0, "the mangle copied what the send queue kept");
    assert.equal(o.got.bytes, TOTAL);
    assert.equal(o.got.hash, o.sent, `seed ${seed}: ${o.retrans} resent`);
  }
});

Deno.test("review15 hooks: the receiver's prerouting mangle on a segment it then drops at input does not reach the sender's retransmission", async () => {
  for (const seed of [23, 24]) {
    const o = await transfer(seed, { delay: ms(1) }, {
      extra: [mangle({ sender: false, dropEvery: 17 })],
    });
    assert.ok(o.retrans > 0, "segments were resent");
    assert.ok(o.copies > 0, "the receiver's mangle copied the sender's chunks");
    assert.equal(o.got.bytes, TOTAL);
    assert.equal(o.got.hash, o.sent, `seed ${seed}: ${o.retrans} resent`);
  }
});

Deno.test("review15 hooks: NAT rewriting ports and checksums of shared segments at both ends, over a lossy link: every byte arrives, nothing copied", async () => {
  // a's postrouting SNAT moves its source port; b's prerouting DNAT moves
  // 48004 to the listener's port: both rewrite a's send-queue chunks
  // (headers only, which TCP writes anew for a retransmission).
  const rules = [
    "snat -s 10.0.0.1 -o eth0 -p tcp --to 10.0.0.1:50000-50009",
    "dnat -i eth0 -d 10.0.0.2 -p tcp --dport 48004 --to 10.0.0.2:48003",
  ].join(";");
  for (const seed of [25, 26]) {
    const o = await transfer(seed, { delay: ms(1), loss: 0.03 }, {
      extra: [conntrackPlugin, natPlugin],
      options: { conntrack: {}, nat: { rules } },
      port: 48004,
    });
    assert.ok(o.retrans > 0, "segments were resent");
    assert.equal(o.got.bytes, TOTAL);
    assert.equal(o.got.hash, o.sent, `seed ${seed}: ${o.retrans} resent`);
    assert.deepEqual(o.natFlows, [1, 1], "both ends translated the flow");
    assert.equal(o.copies, 0, "NAT writes headers only: no copy");
  }
});

Deno.test("review15 hooks: a postrouting mangle of TSO super-segments: the data resent after an RTO is the data first sent, mangled once", () => {
  const { net, io, stack, listener, conn, start, ack } = tsoHost(31, {}, {
    plugins: [mangle({ sender: true, port: 40000 })],
    sackOk: false,
    prepare: (stack, net) => {
      for (const pool of [stack.pool, net.pool]) poisonPool(pool);
    },
  });
  // Opens the congestion window: ten segments acknowledged as they come.
  const data = Uint8Array.from({ length: 4 * SUPER }, (_, i) => (i * 31 + (i >>> 9)) & 0xff);
  assert.equal(conn.write(data), data.length);
  const wire = new Uint8Array(data.length); // what the peer saw first, by stream offset
  const seen = new Uint8Array(data.length);
  let wholeUnacked = 0, resent = 0, acked = 0;
  const collect = () => {
    for (const s of io.take().map(tcpOf)) {
      if (s === null || s.payload.length === 0) continue;
      const off = (s.seq - start) >>> 0;
      if (s.payload.length === SUPER && off >= 2 * SUPER) wholeUnacked++;
      for (let i = 0; i < s.payload.length; i++) {
        if (seen[off + i] === 0) {
          wire[off + i] = s.payload[i]!;
          seen[off + i] = 1;
        } else {
          assert.equal(s.payload[i], wire[off + i], `byte ${off + i} resent as it was first sent`);
          if (i === 0) resent++;
        }
      }
    }
  };
  // The peer acknowledges the first two chunks' worth as they come, then
  // nothing: the rest is resent by RTO, from chunks the mangle wrote to
  // (the third went out whole, as its chunk).
  for (let round = 0; round < 40 && acked < 2 * SUPER; round++) {
    net.runFor(MILLISECOND);
    collect();
    let got = 0;
    while (got < data.length && seen[got] === 1) got++;
    acked = Math.min(got, 2 * SUPER);
    ack(acked);
  }
  net.runFor(3000 * MILLISECOND);
  collect();
  assert.ok(wholeUnacked > 0, "an unacknowledged chunk went out whole (uncopied)");
  assert.ok(resent > 0, "the tail was resent");
  // Once mangled: the words of each 4-byte group swapped (segments start at multiples of 4).
  const expect = data.slice();
  for (let off = 0; off < expect.length; off += MSS) {
    swapWords(expect, off, Math.min(off + MSS, expect.length));
  }
  assert.deepEqual(wire, expect);
  conn.close();
  listener.close();
  net.runFor(10 * MILLISECOND);
  stack.close();
  net.close();
});

Deno.test("review15 hooks: a peer's RST while chunks a mangle moved are in flight: the memory account and the pool go back to zero", () => {
  const { net, io, stack, listener, conn, start, base, ack } = tsoHost(32, {}, {
    plugins: [mangle({ sender: true, port: 40000 })],
    sackOk: false,
  });
  assert.ok(conn.write(new Uint8Array(6 * SUPER).fill(7)) > 3 * SUPER); // the send buffer takes 256 KiB
  let acked = 0;
  const copies = countingCopiesSync(() => {
    for (let round = 0; round < 8; round++) {
      net.runFor(MILLISECOND);
      let top = acked;
      for (const s of io.take().map(tcpOf)) {
        if (s !== null) top = Math.max(top, ((s.seq - start) >>> 0) + s.payload.length);
      }
      acked = Math.min(top, 2 * SUPER);
      ack(acked);
    }
  });
  assert.ok(copies > 0, "the mangle moved chunks the queue kept");
  assert.ok(stack.counters.value("tcp.memory_allocated") > 0);
  io.inject(frameFromPeer({ ...base, seq: 1001, flags: "R" }));
  net.runFor(MILLISECOND);
  io.take();
  listener.close();
  net.runFor(10 * MILLISECOND);
  assert.equal(stack.counters.value("tcp.memory_allocated"), 0, "the account back to zero");
  assert.equal(stack.pool.outstanding, 0, "every buffer back");
  void conn;
  stack.close();
  net.close();
});

/** As {@linkcode countingCopies}, for synchronous work. */
function countingCopiesSync(fn: () => void): number {
  const proto = PacketBuffer.prototype;
  const original = proto.makeWritable;
  let copies = 0;
  proto.makeWritable = function (this: PacketBuffer, from?: number, to?: number) {
    const copied = original.call(this, from, to);
    if (copied) copies++;
    return copied;
  };
  try {
    fn();
  } finally {
    proto.makeWritable = original;
  }
  return copies;
}

Deno.test("review16 hooks: the path MTU drops while chunks a mangle moved are in flight, the peer SACKing above a hole: the data resent at the new MSS is the data first sent, mangled once; the account and the pool go back to zero", () => {
  const { net, io, stack, listener, conn, start, base, ack } = tsoHost(33, {}, {
    plugins: [mangle({ sender: true, port: 40000 })],
    prepare: (stack, net) => {
      for (const pool of [stack.pool, net.pool]) poisonPool(pool);
    },
  });
  const data = Uint8Array.from({ length: 6 * SUPER }, (_, i) => (i * 31 + (i >>> 9)) & 0xff);
  let written = conn.write(data);
  const wire = new Uint8Array(data.length); // what the peer saw first, by stream offset
  const seen = new Uint8Array(data.length);
  let last: Uint8Array | null = null;
  let resent = 0;
  const collect = () => {
    for (const frame of io.take()) {
      const s = tcpOf(frame);
      if (s === null || s.payload.length === 0) continue;
      last = frame;
      const off = (s.seq - start) >>> 0;
      for (let i = 0; i < s.payload.length; i++) {
        if (seen[off + i] === 0) {
          wire[off + i] = s.payload[i]!;
          seen[off + i] = 1;
        } else {
          assert.equal(s.payload[i], wire[off + i], `byte ${off + i} resent as it was first sent`);
          if (i === 0) resent++;
        }
      }
    }
  };
  const contiguous = () => {
    let n = 0;
    while (n < data.length && seen[n] === 1) n++;
    return n;
  };
  // Two chunks acknowledged, the rest in flight (some moved to copies by the mangle).
  const copies = countingCopiesSync(() => {
    for (let round = 0; round < 8; round++) {
      net.runFor(MILLISECOND);
      collect();
      let top = 0;
      for (let i = data.length - 1; i >= 0; i--) {
        if (seen[i] === 1) {
          top = i + 1;
          break;
        }
      }
      ack(Math.min(top, 2 * SUPER));
    }
    assert.ok(last !== null);
    // The path MTU drops; the peer lost [2 SUPER, 2 SUPER + 4 MSS) and SACKs above it.
    io.inject(fragNeededFromPeer(last, 1280));
    const hole: [number, number] = [2 * SUPER, 2 * SUPER + 4 * MSS];
    seen.fill(0, hole[0], hole[1]);
    for (let round = 0; round < 400 && contiguous() < data.length; round++) {
      if (written < data.length) written += conn.write(data.subarray(written));
      const top = contiguous();
      const sacked = seen.indexOf(1, top);
      ack(top, sacked > top ? [[sacked, Math.max(sacked, seen.lastIndexOf(1) + 1)]] : []);
      net.runFor(MILLISECOND * (round % 20 === 19 ? 300 : 1));
      collect();
    }
  });
  assert.ok(copies > 0, "the mangle moved chunks the queue kept");
  assert.ok(resent > 0, "data was resent after the drop");
  assert.equal(contiguous(), data.length, "every byte arrived");
  const expect = data.slice();
  for (let off = 0; off < expect.length; off += 4) swapWords(expect, off, off + 4);
  assert.deepEqual(wire, expect, "each byte mangled once");
  ack(data.length);
  conn.close();
  net.runFor(MILLISECOND);
  io.inject(
    frameFromPeer({ ...base, seq: 1001, ack: (start + data.length + 1) >>> 0, flags: "F." }),
  );
  net.runFor(MILLISECOND);
  io.take();
  listener.close();
  net.runFor(70_000 * MILLISECOND);
  assert.equal(stack.counters.value("tcp.memory_allocated"), 0, "the account back to zero");
  assert.equal(stack.pool.outstanding, 0, "every buffer back");
  stack.close();
  net.close();
});
