/**
 * A TCP super-segment sent to a TSO link carries only the pseudo-header sum
 * in its checksum field (Linux's CHECKSUM_PARTIAL): the link sums the TCP
 * bytes from there. One that goes elsewhere after all (an output hook
 * redirects it to this host) must get its full checksum on the way, or the
 * receiving TCP drops it as corrupt, every retransmission too.
 *
 * The peer here is hand-made: frames in through an InjectDriver with
 * `tsoMaxSize`, frames out completed as the link would (virtio-net
 * NEEDS_CSUM: sum from the TCP header to the end, complemented) and then
 * checked against the real pseudo-header.
 */
import assert from "node:assert/strict";
import {
  conntrackPlugin,
  createStack,
  InjectDriver,
  IpAddress,
  LINKTYPE_RAW,
  MILLISECOND,
  natPlugin,
  type StreamError,
  type StreamService,
  VirtualNetwork,
} from "../../mod.ts";
import { finishChecksum, pseudoHeaderSumV4, sumRange } from "../../stack/wire/checksum.ts";
import { ip, ipv4Packet, pluginsWith } from "../_harness.ts";

const PEER = "10.0.0.1";
const HOST = "10.0.0.2";

/** A TCP/IPv4 segment from PEER:40000 to HOST:`dport` with a correct checksum. */
function segment(dport: number, seq: number, ack: number, flags: number, mss = 0): Uint8Array {
  const opt = mss > 0 ? 4 : 0;
  const t = new Uint8Array(20 + opt);
  const dv = new DataView(t.buffer);
  dv.setUint16(0, 40000);
  dv.setUint16(2, dport);
  dv.setUint32(4, seq >>> 0);
  dv.setUint32(8, ack >>> 0);
  t[12] = ((20 + opt) / 4) << 4;
  t[13] = flags;
  dv.setUint16(14, 65535);
  if (mss > 0) t.set([2, 4, mss >> 8, mss & 0xff], 20);
  dv.setUint16(
    16,
    finishChecksum(sumRange(t, 0, t.length, pseudoHeaderSumV4(ip(PEER), ip(HOST), 6, t.length))),
  );
  return ipv4Packet({ src: PEER, dst: HOST, protocol: 6, dontFragment: true }, t);
}

/**
 * What a TSO link makes of the frame's TCP checksum: for a super-segment,
 * the field holds the partial sum and the link completes it; a normal
 * frame keeps its own. Returns whether the result is right.
 */
function linkChecksumOk(frame: Uint8Array, mtu: number): boolean {
  const l4 = (frame[0]! & 0x0f) << 2;
  const out = new Uint8Array(frame);
  const dv = new DataView(out.buffer);
  if (out.length > mtu) dv.setUint16(l4 + 16, finishChecksum(sumRange(out, l4, out.length)));
  const pseudo = pseudoHeaderSumV4(dv.getUint32(12), dv.getUint32(16), 6, out.length - l4);
  return sumRange(out, l4, out.length, pseudo) === 0xffff;
}

function opened<T extends object>(r: T | StreamError | null): T {
  assert.ok(r !== null && typeof r !== "string", `expected a socket, got "${r}"`);
  return r;
}

/** Runs a server behind `rules` and returns the TCP frames it sends after writing 10000 bytes. */
function serve(rules: string, dport: number): Uint8Array[] {
  const net = new VirtualNetwork({ seed: 1 });
  const io = new InjectDriver({ linkType: LINKTYPE_RAW, tsoMaxSize: 65535 });
  const stack = net.addNode(createStack({
    clock: net.clock,
    seed: 1,
    plugins: pluginsWith(rules === "" ? {} : { nat: { rules } }, [conntrackPlugin, natPlugin]),
  }));
  try {
    stack.addInterface({ name: "tun0", driver: io, addresses: [`${HOST}/24`] });
    const tcp = stack.service<StreamService>("tcp.sockets")!;
    const listener = opened(tcp.listen({ port: 80 }));
    io.take();
    io.inject(segment(dport, 1000, 0, 0x02, 1000)); // SYN
    net.runFor(10 * MILLISECOND);
    const synAck = io.take().find((f) => f[9] === 6 && (f[33]! & 0x12) === 0x12);
    assert.ok(synAck, "no SYN-ACK");
    const iss = new DataView(synAck.buffer, synAck.byteOffset).getUint32(24);
    io.inject(segment(dport, 1001, iss + 1, 0x10)); // ACK
    net.runFor(10 * MILLISECOND);
    const conn = opened(listener.accept());
    assert.equal(conn.write(new Uint8Array(10000).fill(0x61)), 10000);
    net.runFor(10 * MILLISECOND);
    const frames = io.take().filter((f) => f[9] === 6);
    conn.close();
    listener.close();
    net.runFor(10 * MILLISECOND);
    return frames;
  } finally {
    stack.close();
    net.close();
  }
}

Deno.test("TSO partial checksum: a super-segment straight to the link completes right", () => {
  const frames = serve("", 80);
  const big = frames.filter((f) => f.length > 1500);
  assert.ok(big.length > 0, "no super-segment was sent");
  for (const f of frames) assert.ok(linkChecksumOk(f, 1500), `bad checksum, ${f.length} bytes`);
});

Deno.test("TSO partial checksum: a super-segment an output redirect turns back to this host arrives whole", () => {
  // The connection routes out of the TSO link (so TCP builds super-segments);
  // the output hook sends it to a local listener instead, which verifies sums.
  const net = new VirtualNetwork({ seed: 1 });
  const io = new InjectDriver({ linkType: LINKTYPE_RAW, tsoMaxSize: 65535 });
  const stack = net.addNode(createStack({
    clock: net.clock,
    seed: 1,
    plugins: pluginsWith({ nat: { rules: "redirect -p tcp --dport 80 --to 8080" } }, [
      conntrackPlugin,
      natPlugin,
    ]),
  }));
  try {
    stack.addInterface({ name: "tun0", driver: io, addresses: [`${HOST}/24`] });
    const tcp = stack.service<StreamService>("tcp.sockets")!;
    const listener = opened(tcp.listen({ port: 8080 }));
    const client = opened(tcp.connect({ address: IpAddress.parse(PEER)!, port: 80 }));
    net.runFor(10 * MILLISECOND);
    assert.equal(client.connected, true);
    const server = opened(listener.accept());
    assert.equal(client.write(new Uint8Array(10000).fill(0x61)), 10000);
    net.runFor(10 * MILLISECOND);
    const got = new Uint8Array(20000);
    let n = 0;
    for (let r = server.read(got); r > 0; r = server.read(got.subarray(n))) n += r;
    assert.equal(n, 10000);
    assert.equal(stack.counters.snapshot()["tcp.in_errs"] ?? 0, 0);
    assert.deepEqual(io.take().filter((f) => f[9] === 6), [], "nothing went out of the link");
    client.close();
    server.close();
    listener.close();
  } finally {
    stack.close();
    net.close();
  }
});

Deno.test("TSO partial checksum: after the route moves to a link without TSO, the data still arrives in MTU-sized segments", () => {
  // The connection starts over the TSO link; then a more specific route sends
  // the peer's traffic out of a plain 1500-byte link.
  const net = new VirtualNetwork({ seed: 1 });
  const tso = new InjectDriver({ linkType: LINKTYPE_RAW, tsoMaxSize: 65535 });
  const plain = new InjectDriver({ linkType: LINKTYPE_RAW });
  const stack = net.addNode(createStack({ clock: net.clock, seed: 1 }));
  try {
    stack.addInterface({ name: "tun0", driver: tso, addresses: [`${HOST}/24`] });
    stack.addInterface({ name: "tun1", driver: plain, addresses: ["10.9.0.2/24"] });
    const tcp = stack.service<StreamService>("tcp.sockets")!;
    const listener = opened(tcp.listen({ port: 80 }));
    tso.inject(segment(80, 1000, 0, 0x02, 1000)); // SYN
    net.runFor(10 * MILLISECOND);
    const synAck = tso.take().find((f) => f[9] === 6 && (f[33]! & 0x12) === 0x12);
    assert.ok(synAck, "no SYN-ACK");
    const iss = new DataView(synAck.buffer, synAck.byteOffset).getUint32(24);
    tso.inject(segment(80, 1001, iss + 1, 0x10)); // ACK
    net.runFor(10 * MILLISECOND);
    const conn = opened(listener.accept());
    stack.addRoute(`${PEER}/32`, { interface: "tun1" });
    assert.equal(conn.write(new Uint8Array(10000).fill(0x61)), 10000);
    // The first super-segment is refused; loss recovery resends. The peer acknowledges what it gets.
    const frames: Uint8Array[] = [];
    let acked = 0;
    for (let round = 0; round < 50 && acked < 10000; round++) {
      net.runFor(500 * MILLISECOND);
      for (const f of plain.take().filter((f) => f[9] === 6)) {
        frames.push(f);
        const seq = new DataView(f.buffer, f.byteOffset).getUint32(24) - iss - 1;
        if (seq <= acked) acked = Math.max(acked, seq + f.length - 40);
      }
      tso.take();
      plain.inject(segment(80, 1001, iss + 1 + acked, 0x10));
    }
    assert.ok(frames.length > 0, "nothing left through tun1");
    for (const f of frames) {
      assert.ok(f.length <= 1500, `a ${f.length}-byte frame on a 1500-byte link`);
      assert.ok(linkChecksumOk(f, 1500), "bad checksum");
    }
    // Every byte went out through tun1 (retransmissions may repeat some).
    const seqs = new Set<number>();
    for (const f of frames) {
      const seq = new DataView(f.buffer, f.byteOffset).getUint32(24) - iss - 1;
      for (let i = 0; i < f.length - 40; i++) seqs.add(seq + i);
    }
    assert.equal(seqs.size, 10000);
    // Only the super-segment built before the route moved was refused.
    assert.equal(stack.counters.snapshot()["ipv4.tx.message_too_long"], 1);
    conn.close();
    listener.close();
  } finally {
    stack.close();
    net.close();
  }
});

Deno.test("TSO partial checksum: a super-segment an output DNAT sends to another host of the TSO link goes out whole", () => {
  const net = new VirtualNetwork({ seed: 1 });
  const io = new InjectDriver({ linkType: LINKTYPE_RAW, tsoMaxSize: 65535 });
  const stack = net.addNode(createStack({
    clock: net.clock,
    seed: 1,
    plugins: pluginsWith({ nat: { rules: "dnat -p tcp --dport 80 --to 10.0.0.3" } }, [
      conntrackPlugin,
      natPlugin,
    ]),
  }));
  try {
    stack.addInterface({ name: "tun0", driver: io, addresses: [`${HOST}/24`] });
    const tcp = stack.service<StreamService>("tcp.sockets")!;
    const client = opened(tcp.connect({ address: IpAddress.parse(PEER)!, port: 80 }));
    net.runFor(MILLISECOND);
    const syn = io.take().find((f) => f[9] === 6 && f[33] === 0x02);
    assert.ok(syn, "no SYN");
    const sv = new DataView(syn.buffer, syn.byteOffset);
    assert.equal(sv.getUint32(16), ip("10.0.0.3"));
    // The SYN-ACK from 10.0.0.3:80 to the client's port.
    const t = new Uint8Array(24);
    const dv = new DataView(t.buffer);
    dv.setUint16(0, 80);
    dv.setUint16(2, sv.getUint16(20));
    dv.setUint32(4, 5000);
    dv.setUint32(8, sv.getUint32(24) + 1);
    t[12] = 6 << 4;
    t[13] = 0x12;
    dv.setUint16(14, 65535);
    t.set([2, 4, 1000 >> 8, 1000 & 0xff], 20);
    const p = pseudoHeaderSumV4(ip("10.0.0.3"), ip(HOST), 6, t.length);
    dv.setUint16(16, finishChecksum(sumRange(t, 0, t.length, p)));
    io.inject(ipv4Packet({ src: "10.0.0.3", dst: HOST, protocol: 6, dontFragment: true }, t));
    net.runFor(MILLISECOND);
    assert.equal(client.connected, true);
    io.take();
    assert.equal(client.write(new Uint8Array(10000).fill(0x61)), 10000);
    net.runFor(MILLISECOND);
    const frames = io.take().filter((f) => f[9] === 6);
    assert.ok(frames.some((f) => f.length > 1500), "no super-segment went out");
    assert.equal(stack.counters.snapshot()["ipv4.tx.message_too_long"] ?? 0, 0);
    client.close();
  } finally {
    stack.close();
    net.close();
  }
});
