/**
 * A stack on a TSO link with a connection accepted from a hand-made peer
 * (frames in through an InjectDriver with `tsoMaxSize`), for the tests of
 * the TSO send path (tso_chunks_test, tests/review/tso_send_path_test).
 */
import assert from "node:assert/strict";
import {
  createStack,
  InjectDriver,
  LINKTYPE_RAW,
  MILLISECOND,
  type ProtocolPlugin,
  type Stack,
  type StreamError,
  type StreamService,
  VirtualNetwork,
} from "../../mod.ts";
import { icmpFragNeeded, ipv4Packet, pluginsWith } from "../_harness.ts";
import { type TcpFields, tcpSegment } from "./_tcp.ts";

export const PEER = "10.0.0.1";
export const HOST = "10.0.0.2";
export const MSS = 1448;
/** Whole segments in a 65,535-byte super-segment after 100 bytes of headers (output.ts's tsoGoal). */
export const SUPER = Math.floor((65535 - 100) / MSS) * MSS;

export function frameFromPeer(f: TcpFields): Uint8Array {
  return ipv4Packet({ src: PEER, dst: HOST, protocol: 6 }, tcpSegment(f, PEER, HOST));
}

/** ICMP "fragmentation needed" from the peer quoting `quoted` (an IP packet the stack sent), next-hop MTU `mtu`. */
export function fragNeededFromPeer(quoted: Uint8Array, mtu: number): Uint8Array {
  return ipv4Packet({ src: PEER, dst: HOST, protocol: 1 }, icmpFragNeeded(quoted, mtu));
}

/** A sent frame's sequence number, flags and payload (super-segments carry a partial checksum: not checked). */
export function tcpOf(
  frame: Uint8Array,
): { seq: number; flags: number; payload: Uint8Array } | null {
  if (frame[9] !== 6) return null;
  const ihl = (frame[0]! & 15) * 4;
  const total = (frame[2]! << 8) | frame[3]!;
  const dv = new DataView(frame.buffer, frame.byteOffset + ihl);
  const off = ihl + (frame[ihl + 12]! >> 4) * 4;
  return { seq: dv.getUint32(4), flags: frame[ihl + 13]!, payload: frame.subarray(off, total) };
}

export function opened<T extends object>(r: T | StreamError | null): T {
  assert.ok(r !== null && typeof r !== "string", `expected a socket, got "${r}"`);
  return r;
}

/** What {@linkcode tsoHost} varies beyond TCP's options. */
export interface TsoHostOptions {
  /** Plugins added to the stack's (hooks under test). */
  readonly plugins?: readonly ProtocolPlugin[];
  /** Whether the peer's SYN offers SACK (default true). */
  readonly sackOk?: boolean;
  /** Runs once the stack and network exist, before the interface and the handshake (pool poisoning). */
  readonly prepare?: (stack: Stack, net: VirtualNetwork) => void;
}

/** A stack on a TSO link (InjectDriver) with an accepted connection from the peer. */
export function tsoHost(
  seed: number,
  tcpOptions: Record<string, number> = {},
  host: TsoHostOptions = {},
) {
  const net = new VirtualNetwork({ seed });
  const io = new InjectDriver({ linkType: LINKTYPE_RAW, tsoMaxSize: 65535 });
  const plugins = pluginsWith({ tcp: tcpOptions }, host.plugins ?? []);
  const stack = net.addNode(createStack({ clock: net.clock, seed, plugins }));
  host.prepare?.(stack, net);
  stack.addInterface({ name: "tun0", driver: io, addresses: [`${HOST}/24`] });
  const tcp = stack.service<StreamService>("tcp.sockets")!;
  const listener = opened(tcp.listen({ port: 80 }));
  const base = { srcPort: 40000, dstPort: 80, window: 65535 };
  io.inject(
    frameFromPeer({
      ...base,
      seq: 1000,
      flags: "S",
      options: { mss: MSS, wscale: 7, sackOk: host.sackOk ?? true },
    }),
  );
  net.runFor(MILLISECOND);
  const synAck = io.take().map(tcpOf).find((s) => s !== null && (s.flags & 0x12) === 0x12);
  assert.ok(synAck, "no SYN-ACK");
  const start = (synAck.seq + 1) >>> 0;
  io.inject(frameFromPeer({ ...base, seq: 1001, ack: start, flags: "." }));
  net.runFor(MILLISECOND);
  const conn = opened(listener.accept());
  /**
   * The peer's ACK of the first `n` bytes, with SACK blocks (stream offsets,
   * [left, right)) and a window (bytes, before the scale of 7) if given.
   */
  const ack = (n: number, sack: readonly (readonly [number, number])[] = [], window = 65535) =>
    io.inject(frameFromPeer({
      ...base,
      window,
      seq: 1001,
      ack: (start + n) >>> 0,
      flags: ".",
      options: { sack: sack.map(([l, r]) => [(start + l) >>> 0, (start + r) >>> 0] as const) },
    }));
  const close = () => {
    conn.close();
    listener.close();
    net.runFor(10 * MILLISECOND);
    stack.close();
    net.close();
  };
  return { net, io, stack, listener, conn, start, base, ack, close };
}
