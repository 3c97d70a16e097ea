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
import {
  createStack,
  InjectDriver,
  LINKTYPE_RAW,
  MILLISECOND,
  type StreamError,
  type StreamService,
  VirtualNetwork,
} from "../../mod.ts";
import { ipv4Packet, pluginsWith } from "../_harness.ts";
import { pattern, type TcpFields, tcpSegment } from "./_tcp.ts";

const PEER = "10.0.0.1";
const HOST = "10.0.0.2";
const MSS = 1448;
/** Whole segments in a 65,535-byte super-segment after 100 bytes of headers (output.ts's tsoGoal). */
const SUPER = Math.floor((65535 - 100) / MSS) * MSS;

function frameFromPeer(f: TcpFields): Uint8Array {
  return ipv4Packet({ src: PEER, dst: HOST, protocol: 6 }, tcpSegment(f, PEER, HOST));
}

/** A sent frame's sequence number, flags and payload (super-segments carry a partial checksum: not checked). */
function tcpOf(frame: Uint8Array): { seq: number; flags: number; payload: Uint8Array } | null {
  if (frame[9] !== 6) return null;
  const ihl = (frame[0]! & 15) * 4;
  const total = (frame[2]! << 8) | frame[3]!;
  const dv = new DataView(frame.buffer, frame.byteOffset + ihl);
  const off = ihl + (frame[ihl + 12]! >> 4) * 4;
  return { seq: dv.getUint32(4), flags: frame[ihl + 13]!, payload: frame.subarray(off, total) };
}

function opened<T extends object>(r: T | StreamError | null): T {
  assert.ok(r !== null && typeof r !== "string", `expected a socket, got "${r}"`);
  return r;
}

/** A stack on a TSO link (InjectDriver) with an accepted connection from the peer. */
function tsoHost(seed: number, tcpOptions: Record<string, number> = {}) {
  const net = new VirtualNetwork({ seed });
  const io = new InjectDriver({ linkType: LINKTYPE_RAW, tsoMaxSize: 65535 });
  const plugins = pluginsWith({ tcp: tcpOptions });
  const stack = net.addNode(createStack({ clock: net.clock, seed, plugins }));
  stack.addInterface({ name: "tun0", driver: io, addresses: [`${HOST}/24`] });
  const tcp = stack.service<StreamService>("tcp.sockets")!;
  const listener = opened(tcp.listen({ port: 80 }));
  const base = { srcPort: 40000, dstPort: 80, window: 65535 };
  io.inject(frameFromPeer({ ...base, seq: 1000, flags: "S", options: { mss: MSS, wscale: 7 } }));
  net.runFor(MILLISECOND);
  const synAck = io.take().map(tcpOf).find((s) => s !== null && (s.flags & 0x12) === 0x12);
  assert.ok(synAck, "no SYN-ACK");
  const start = (synAck.seq + 1) >>> 0;
  io.inject(frameFromPeer({ ...base, seq: 1001, ack: start, flags: "." }));
  net.runFor(MILLISECOND);
  const conn = opened(listener.accept());
  /** The peer's ACK of the first `n` bytes. */
  const ack = (n: number) =>
    io.inject(frameFromPeer({ ...base, seq: 1001, ack: (start + n) >>> 0, flags: "." }));
  const close = () => {
    conn.close();
    listener.close();
    net.runFor(10 * MILLISECOND);
    stack.close();
    net.close();
  };
  return { net, io, stack, conn, start, ack, close };
}

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
