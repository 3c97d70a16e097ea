/**
 * A connection from the stack to the test peer 20 ms away, for loss-recovery
 * tests (RACK-TLP, D-SACK, PRR): the peer answers the SYN one RTT later, so
 * SRTT starts at 20 ms, and builds ACKs with SACK blocks relative to the
 * stack's first data byte.
 *
 * @module
 */
import { ms } from "../_harness.ts";
import { one, type Peer, type Seg, type TcpFields, track } from "./_tcp.ts";

/** The path RTT the peer plays. */
export const RTT: number = ms(20);

/**
 * The stack connects to the peer, which answers the SYN one RTT later (SRTT
 * = 20 ms), with SACK-permitted unless `sackOk` is false.
 */
export async function open(peer: Peer, mss = 1000, sackOk = true): Promise<{
  conn: NonNullable<Awaited<ReturnType<Peer["stack"]["connect"]>>>;
  s: number;
  info: () => ReturnType<Peer["stack"]["sockets"]>[number];
  ackOf: (ack: number, sack?: [number, number][]) => TcpFields;
  rel: (segs: readonly Seg[]) => number[];
}> {
  const t = track(peer.stack.connect({ hostname: peer.addr, port: 80 }));
  const syn = one(peer.take(), { flags: "S" });
  peer.wait(RTT);
  const out = peer.send({
    srcPort: 80,
    dstPort: syn.srcPort,
    seq: 1000,
    ack: syn.seq + 1,
    flags: "S.",
    options: sackOk ? { mss, sackOk: true } : { mss },
  });
  one(out, { flags: "." });
  await t.done;
  const conn = t.value!;
  const s = (syn.seq + 1) >>> 0;
  const info = () => peer.stack.sockets().find((x) => x.state === "ESTABLISHED")!;
  /** An ACK from the peer: `ack` and SACK blocks relative to the stack's first data byte. */
  const ackOf = (ack: number, sack: [number, number][] = []): TcpFields => ({
    srcPort: 80,
    dstPort: syn.srcPort,
    seq: 1001,
    ack: (s + ack) >>> 0,
    flags: ".",
    ...(sack.length > 0
      ? { options: { sack: sack.map(([l, r]) => [(s + l) >>> 0, (s + r) >>> 0] as const) } }
      : {}),
  });
  const rel = (segs: readonly Seg[]) =>
    segs.filter((x) => x.payload.length > 0).map((x) => (x.seq - s) >>> 0);
  return { conn, s, info, ackOf, rel };
}
