/**
 * TCP test helpers: an independent segment builder and parser (their own
 * checksum and option code, not the stack's), and a {@linkcode Peer}: the
 * test plays the remote host behind a raw-IP link of one stack
 * (`makeHost({ linkType: 101 })`), injecting hand-made segments and reading
 * the stack's answers, to drive the state machine segment by segment.
 *
 * Flags are written as tcpdump prints them: `"S"`, `"S."`, `"."`, `"P."`,
 * `"F."`, `"R"`, `"R."`.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  checksum,
  type Host,
  ip,
  ipv4Packet,
  type LinkPair,
  makeHost,
  type PluginOptions,
  track,
  type Tracked,
} from "../_harness.ts";
import type { TcpConn, TcpListener } from "../../stack/sockets/types.ts";
import type { Duration } from "../../stack/clock.ts";
import type { CongestionControl, CongestionRegistry, ProtocolPlugin } from "../../mod.ts";
import { formatIpv4Address } from "../../stack/wire/address.ts";
import { kernelOf } from "../../stack/stack.ts";

const FLAG_BITS: Record<string, number> = {
  F: 0x01,
  S: 0x02,
  R: 0x04,
  P: 0x08,
  ".": 0x10,
  U: 0x20,
  E: 0x40,
  W: 0x80,
};

/** Flag bits from tcpdump letters. */
export function flagBits(s: string): number {
  let f = 0;
  for (const ch of s) {
    const b = FLAG_BITS[ch];
    if (b === undefined) throw new TypeError(`Unknown TCP flag letter "${ch}"`);
    f |= b;
  }
  return f;
}

/** tcpdump letters from flag bits. */
export function flagLetters(f: number): string {
  let s = "";
  for (const ch of "FSRP.UEW") if (f & FLAG_BITS[ch]!) s += ch;
  return s === "" ? "none" : s;
}

/** Options of a hand-made segment. */
export interface TcpOptionFields {
  /** MSS. */
  readonly mss?: number;
  /** Window scale shift. */
  readonly wscale?: number;
  /** SACK permitted. */
  readonly sackOk?: boolean;
  /** Timestamps `[TSval, TSecr]`. */
  readonly ts?: readonly [number, number];
  /** SACK blocks. */
  readonly sack?: readonly (readonly [number, number])[];
  /** Raw option bytes appended after the others. */
  readonly raw?: readonly number[];
}

/** A hand-made segment. */
export interface TcpFields {
  /** Source port. */
  readonly srcPort: number;
  /** Destination port. */
  readonly dstPort: number;
  /** Sequence number. */
  readonly seq: number;
  /** Acknowledgment number (default 0). */
  readonly ack?: number;
  /** tcpdump flag letters. */
  readonly flags: string;
  /** Window field (default 65535). */
  readonly window?: number;
  /** Options. */
  readonly options?: TcpOptionFields;
  /** Payload. */
  readonly payload?: Uint8Array;
  /** Override: the checksum field. */
  readonly checksum?: number;
}

function optionBytes(o: TcpOptionFields | undefined): number[] {
  if (o === undefined) return [];
  const b: number[] = [];
  const u32 = (v: number) => b.push((v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255);
  if (o.mss !== undefined) b.push(2, 4, o.mss >> 8, o.mss & 255);
  if (o.sackOk) b.push(4, 2);
  if (o.ts !== undefined) {
    b.push(8, 10);
    u32(o.ts[0]);
    u32(o.ts[1]);
  }
  if (o.wscale !== undefined) b.push(1, 3, 3, o.wscale);
  if (o.sack !== undefined && o.sack.length > 0) {
    b.push(1, 1, 5, 2 + 8 * o.sack.length);
    for (const [l, r] of o.sack) {
      u32(l);
      u32(r);
    }
  }
  if (o.raw !== undefined) b.push(...o.raw);
  while (b.length % 4 !== 0) b.push(0);
  return b;
}

/** The TCP segment bytes, with a checksum over the pseudo-header of `src` → `dst`. */
export function tcpSegment(f: TcpFields, src: string, dst: string): Uint8Array {
  const opts = optionBytes(f.options);
  const payload = f.payload ?? new Uint8Array(0);
  const hl = 20 + opts.length;
  const seg = new Uint8Array(hl + payload.length);
  const dv = new DataView(seg.buffer);
  dv.setUint16(0, f.srcPort);
  dv.setUint16(2, f.dstPort);
  dv.setUint32(4, f.seq >>> 0);
  dv.setUint32(8, (f.ack ?? 0) >>> 0);
  dv.setUint16(12, ((hl / 4) << 12) | flagBits(f.flags));
  dv.setUint16(14, f.window ?? 65535);
  seg.set(opts, 20);
  seg.set(payload, hl);
  dv.setUint16(16, f.checksum ?? tcpChecksum(seg, src, dst));
  return seg;
}

/** The checksum to store for `seg` (0 when it already verifies). */
export function tcpChecksum(seg: Uint8Array, src: string, dst: string): number {
  const pseudo = new Uint8Array(12 + seg.length + (seg.length & 1));
  const dv = new DataView(pseudo.buffer);
  dv.setUint32(0, ip(src));
  dv.setUint32(4, ip(dst));
  pseudo[9] = 6;
  dv.setUint16(10, seg.length);
  pseudo.set(seg, 12);
  return checksum(pseudo);
}

/** A segment as the stack sent it, parsed by the test's own code. */
export interface Seg {
  /** IPv4 source. */
  readonly src: string;
  /** IPv4 destination. */
  readonly dst: string;
  /** Source port. */
  readonly srcPort: number;
  /** Destination port. */
  readonly dstPort: number;
  /** Sequence number. */
  readonly seq: number;
  /** Acknowledgment number. */
  readonly ack: number;
  /** tcpdump flag letters. */
  readonly flags: string;
  /** Window field. */
  readonly window: number;
  /** Payload. */
  readonly payload: Uint8Array;
  /** MSS option. */
  readonly mss?: number;
  /** Window-scale option. */
  readonly wscale?: number;
  /** SACK permitted. */
  readonly sackOk: boolean;
  /** Timestamps. */
  readonly ts?: readonly [number, number];
  /** SACK blocks. */
  readonly sack: readonly (readonly [number, number])[];
  /** Option kinds in wire order (1 = NOP). */
  readonly optionKinds: readonly number[];
  /** Whether IP DF was set. */
  readonly dontFragment: boolean;
}

/** Parses an IPv4 packet holding TCP, checking both checksums; undefined for anything else. */
export function parseSeg(p: Uint8Array): Seg | undefined {
  if (p.length < 20 || p[0]! >> 4 !== 4 || p[9] !== 6) return undefined;
  const hl4 = (p[0]! & 15) * 4;
  const dv = new DataView(p.buffer, p.byteOffset, p.byteLength);
  const total = dv.getUint16(2);
  assert.equal(checksum(p.subarray(0, hl4)), 0, "IPv4 header checksum");
  const src = formatIpv4Address(dv.getUint32(12));
  const dst = formatIpv4Address(dv.getUint32(16));
  const seg = p.subarray(hl4, total);
  assert.equal(tcpChecksum(seg, src, dst), 0, "TCP checksum");
  const t = new DataView(seg.buffer, seg.byteOffset, seg.byteLength);
  const hl = (seg[12]! >> 4) * 4;
  let mss: number | undefined, wscale: number | undefined, ts: [number, number] | undefined;
  let sackOk = false;
  const sack: [number, number][] = [];
  const kinds: number[] = [];
  for (let i = 20; i < hl;) {
    const k = seg[i]!;
    if (k === 0) break;
    kinds.push(k);
    if (k === 1) {
      i++;
      continue;
    }
    const len = seg[i + 1]!;
    assert.ok(len >= 2 && i + len <= hl, `option ${k} length ${len}`);
    if (k === 2) mss = t.getUint16(i + 2);
    if (k === 3) wscale = seg[i + 2];
    if (k === 4) sackOk = true;
    if (k === 8) ts = [t.getUint32(i + 2), t.getUint32(i + 6)];
    if (k === 5) {
      for (let j = i + 2; j < i + len; j += 8) sack.push([t.getUint32(j), t.getUint32(j + 4)]);
    }
    i += len;
  }
  return {
    src,
    dst,
    srcPort: t.getUint16(0),
    dstPort: t.getUint16(2),
    seq: t.getUint32(4),
    ack: t.getUint32(8),
    flags: flagLetters(t.getUint16(12) & 0xff),
    window: t.getUint16(14),
    payload: seg.slice(hl),
    ...(mss !== undefined ? { mss } : {}),
    ...(wscale !== undefined ? { wscale } : {}),
    sackOk,
    ...(ts !== undefined ? { ts } : {}),
    sack,
    optionKinds: kinds,
    dontFragment: (p[6]! & 0x40) !== 0,
  };
}

/**
 * The TCP segments among `frames`, parsed as {@linkcode parseSeg} does, each
 * with what `extra` reads from its raw IPv4 packet (fields the parser leaves out).
 */
export function parseSegsWith<T extends object>(
  frames: readonly Uint8Array[],
  extra: (packet: Uint8Array) => T,
): (Seg & T)[] {
  const out: (Seg & T)[] = [];
  for (const f of frames) {
    const s = parseSeg(f);
    if (s !== undefined) out.push({ ...s, ...extra(f) });
  }
  return out;
}

/** One line per segment, for assertion messages. */
export function show(segs: readonly Seg[]): string {
  return segs.map((s) =>
    `${s.srcPort} > ${s.dstPort} [${s.flags}] seq ${s.seq} ack ${s.ack} win ${s.window} len ${s.payload.length}`
  ).join("\n");
}

/** Expected fields of a segment (each optional). */
export interface SegCheck {
  /** tcpdump letters, exactly. */
  readonly flags?: string;
  /** Sequence number. */
  readonly seq?: number;
  /** Acknowledgment number. */
  readonly ack?: number;
  /** Payload length. */
  readonly len?: number;
  /** Window field. */
  readonly window?: number;
}

/** Asserts that `segs` is exactly one segment matching `want`; returns it. */
export function one(segs: readonly Seg[], want: SegCheck = {}): Seg {
  assert.equal(segs.length, 1, `expected one segment, got ${segs.length}:\n${show(segs)}`);
  return expectSeg(segs[0]!, want);
}

/** Asserts `s` matches `want`; returns it. */
export function expectSeg(s: Seg, want: SegCheck): Seg {
  const got: Record<string, unknown> = {};
  const exp: Record<string, unknown> = {};
  if (want.flags !== undefined) [got.flags, exp.flags] = [s.flags, want.flags];
  if (want.seq !== undefined) [got.seq, exp.seq] = [s.seq, want.seq >>> 0];
  if (want.ack !== undefined) [got.ack, exp.ack] = [s.ack, want.ack >>> 0];
  if (want.len !== undefined) [got.len, exp.len] = [s.payload.length, want.len];
  if (want.window !== undefined) [got.window, exp.window] = [s.window, want.window];
  assert.deepEqual(got, exp, show([s]));
  return s;
}

/** Options of {@linkcode makePeer}. */
export interface PeerOptions {
  /** Seed (default 1). */
  readonly seed?: number;
  /** Plugin options (`{ tcp: { … } }`). */
  readonly plugins?: PluginOptions;
  /** Record a capture. */
  readonly capture?: boolean;
  /** Link MTU (default 1500). */
  readonly mtu?: number;
  /** More plugins to load (a test congestion control, ...). */
  readonly extraPlugins?: readonly ProtocolPlugin[];
}

/**
 * The stack (10.0.0.1) on a raw-IP link, and the test as its peer
 * (10.0.0.2): {@linkcode Peer.send} injects a segment and returns what the
 * stack answered.
 */
export class Peer {
  /** The host environment. */
  readonly host: Host;
  /** Our (the peer's) address. */
  readonly addr = "10.0.0.2";
  /** The stack's address. */
  readonly stackAddr = "10.0.0.1";

  /** A stack on a raw-IP link with the test as its peer. */
  constructor(options: PeerOptions = {}) {
    this.host = makeHost({
      linkType: 101,
      seed: options.seed ?? 1,
      addresses: ["10.0.0.1/24"],
      ...(options.plugins ? { plugins: options.plugins } : {}),
      ...(options.capture ? { capture: true } : {}),
      ...(options.mtu !== undefined ? { mtu: options.mtu } : {}),
      ...(options.extraPlugins ? { extraPlugins: options.extraPlugins } : {}),
    });
  }

  /** The stack. */
  get stack(): Host["stack"] {
    return this.host.stack;
  }

  /** Injects a segment from the peer; runs `after` µs; returns the TCP segments sent meanwhile. */
  send(f: TcpFields, after: Duration = 0): Seg[] {
    const bytes = ipv4Packet(
      { src: this.addr, dst: this.stackAddr, protocol: 6 },
      tcpSegment(f, this.addr, this.stackAddr),
    );
    return this.host.inject(bytes, after).map(parseSeg).filter((s): s is Seg => s !== undefined);
  }

  /**
   * Injects segments as one receive batch (as a TUN read loop delivers
   * them: `beginBatch`, the frames, `endBatch`); returns what the stack sent
   * while the batch was open (`during`) and at its end (`after`).
   */
  sendBatch(fs: readonly TcpFields[]): { during: Seg[]; after: Seg[] } {
    const stack = this.host.stack;
    const index = this.host.iface.index;
    const parse = (frames: Uint8Array[]) =>
      frames.map(parseSeg).filter((s): s is Seg => s !== undefined);
    kernelOf(stack).beginBatch();
    for (const f of fs) {
      const bytes = ipv4Packet(
        { src: this.addr, dst: this.stackAddr, protocol: 6 },
        tcpSegment(f, this.addr, this.stackAddr),
      );
      kernelOf(stack).inject(index, bytes);
    }
    this.host.runFor(0); // deliver what the stack sent meanwhile
    const during = parse(this.host.take());
    kernelOf(stack).endBatch();
    return { during, after: this.take() };
  }

  /** Injects raw IPv4 bytes; returns the TCP segments sent. */
  sendRaw(bytes: Uint8Array, after: Duration = 0): Seg[] {
    return this.host.inject(bytes, after).map(parseSeg).filter((s): s is Seg => s !== undefined);
  }

  /** Runs the network `d` µs; returns the TCP segments sent meanwhile. */
  wait(d: Duration): Seg[] {
    this.host.runFor(d);
    return this.take();
  }

  /** The TCP segments sent since the last call (after delivering what is in flight now). */
  take(): Seg[] {
    this.host.runFor(0);
    return this.host.take().map(parseSeg).filter((s): s is Seg => s !== undefined);
  }

  /** The raw IPv4 packets sent since the last call (after delivering what is in flight now). */
  takeFrames(): Uint8Array[] {
    this.host.runFor(0);
    return this.host.take();
  }

  /** A tcp counter's value (`"rx.paws"`, `"challenge_acks"`, …). */
  counter(name: string): number {
    return this.host.counter(`tcp.${name}`);
  }

  /** The stack's socket list entry for the connection to our `port`, if any. */
  state(port: number): string | undefined {
    return this.stack.sockets().find((s) => s.remote === `${this.addr}:${port}`)?.state;
  }

  /** The stack's socket list entry for the connection to our `port`, if any. */
  info(port: number): ReturnType<Host["stack"]["sockets"]>[number] | undefined {
    return this.stack.sockets().find((s) => s.remote === `${this.addr}:${port}`);
  }

  /** Lets promises settle (microtasks) without moving virtual time. */
  async settle(): Promise<void> {
    for (let i = 0; i < 5; i++) await Promise.resolve();
  }

  /** Closes and checks for leaked buffers. */
  finish(): void {
    this.host.finish();
  }
}

/** A connection the stack opened to the peer, established by hand. */
export interface ActiveConn {
  /** The stack's connection. */
  readonly conn: TcpConn;
  /** The stack's port. */
  readonly port: number;
  /** The peer's port. */
  readonly peerPort: number;
  /** The stack's next sequence number (its ISS + 1). */
  readonly sndNxt: number;
  /** The peer's next sequence number. */
  readonly peerNxt: number;
  /** The stack's SYN. */
  readonly syn: Seg;
}

/**
 * The stack connects to the peer's `peerPort`; the peer answers SYN-ACK
 * with `options` (default MSS 1460, no timestamps/SACK/scaling) and ISS
 * `peerIss`; the stack's ACK is checked.
 */
export async function activeOpen(
  peer: Peer,
  peerPort = 80,
  options: TcpOptionFields = { mss: 1460 },
  peerIss = 1000,
): Promise<ActiveConn> {
  const t = track(peer.stack.connect({ hostname: peer.addr, port: peerPort }));
  const syn = one(peer.take(), { flags: "S" });
  const port = syn.srcPort;
  const ts = options.ts !== undefined && syn.ts !== undefined
    ? [options.ts[0], syn.ts[0]] as const
    : undefined;
  const out = peer.send({
    srcPort: peerPort,
    dstPort: port,
    seq: peerIss,
    ack: syn.seq + 1,
    flags: "S.",
    options: { ...options, ...(ts ? { ts } : {}) },
  });
  one(out, { flags: ".", seq: syn.seq + 1, ack: peerIss + 1 });
  await t.done;
  assert.ok(t.value !== undefined, `connect failed: ${t.error}`);
  return {
    conn: t.value,
    port,
    peerPort,
    sndNxt: (syn.seq + 1) >>> 0,
    peerNxt: peerIss + 1,
    syn,
  };
}

/** A connection the peer opened to the stack's listener, accepted. */
export interface PassiveConn {
  /** The accepted connection. */
  readonly conn: TcpConn;
  /** The listener. */
  readonly listener: TcpListener;
  /** The stack's port. */
  readonly port: number;
  /** The peer's port. */
  readonly peerPort: number;
  /** The stack's next sequence number. */
  readonly sndNxt: number;
  /** The peer's next sequence number. */
  readonly peerNxt: number;
  /** The stack's SYN-ACK. */
  readonly synAck: Seg;
}

/** The peer connects from `peerPort` to a new listener on `port`; accepted. */
export async function passiveOpen(
  peer: Peer,
  port = 80,
  peerPort = 40000,
  options: TcpOptionFields = { mss: 1460 },
  peerIss = 5000,
): Promise<PassiveConn> {
  const listener = peer.stack.listen({ port });
  const synAck = one(
    peer.send({ srcPort: peerPort, dstPort: port, seq: peerIss, flags: "S", options }),
    { flags: "S.", ack: peerIss + 1 },
  );
  const ackTs = options.ts !== undefined && synAck.ts !== undefined
    ? { ts: [options.ts[0] + 1, synAck.ts[0]] as const }
    : undefined;
  const out = peer.send({
    srcPort: peerPort,
    dstPort: port,
    seq: peerIss + 1,
    ack: synAck.seq + 1,
    flags: ".",
    ...(ackTs ? { options: ackTs } : {}),
  });
  assert.deepEqual(out, [], show(out));
  const conn = await listener.accept();
  return {
    conn,
    listener,
    port,
    peerPort,
    sndNxt: (synAck.seq + 1) >>> 0,
    peerNxt: peerIss + 1,
    synAck,
  };
}

/** The ends and next sequence numbers of a connection, as {@linkcode ActiveConn} and {@linkcode PassiveConn} hold them. */
export interface ConnEnds {
  /** The stack's port. */
  readonly port: number;
  /** The peer's port. */
  readonly peerPort: number;
  /** The stack's next sequence number. */
  readonly sndNxt: number;
  /** The peer's next sequence number. */
  readonly peerNxt: number;
}

/**
 * A segment from the peer on connection `c`: its ports, the peer's next
 * sequence number and an ACK of everything the stack sent, then `fields`
 * (which may override any of them).
 */
export function fromPeer(
  c: ConnEnds,
  fields: Omit<TcpFields, "srcPort" | "dstPort" | "seq"> & Partial<TcpFields>,
): TcpFields {
  return { srcPort: c.peerPort, dstPort: c.port, seq: c.peerNxt, ack: c.sndNxt, ...fields };
}

/** Bytes `0, 1, 2, …` (mod 251), `n` long, starting at `from`. */
export function pattern(n: number, from = 0): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (from + i) % 251;
  return b;
}

/**
 * A Fast Open exchange on a link pair: a connects to 10.0.0.2:80 with `data`
 * in the SYN (when it holds a cookie), b's listener `l` reads `data` back,
 * both close.
 */
export async function fastOpenRequest(env: LinkPair, l: TcpListener, data: string): Promise<void> {
  await env.run(async () => {
    const [c, s] = await Promise.all([
      env.a.connect({ hostname: "10.0.0.2", port: 80, fastOpenData: text(data) }),
      l.accept(),
    ]);
    assert.equal(await readText(s, data.length), data);
    c.close();
    s.close();
  });
}

/** Reads from `conn` until `n` characters (or the end of the stream) arrived; returns them as text. */
export async function readText(conn: TcpConn, n: number): Promise<string> {
  const buf = new Uint8Array(1000);
  let s = "";
  while (s.length < n) {
    const r = await conn.read(buf);
    if (r === null) break;
    s += new TextDecoder().decode(buf.subarray(0, r));
  }
  return s;
}

/** Text as bytes. */
export function text(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

export { track, type Tracked };

/**
 * A plugin that registers one congestion control under `name` through the
 * `tcp.congestion` service, as a user's plugin would.
 */
export function congestionPlugin(
  name: string,
  description: string,
  make: (mss: number, initialWindow: number) => CongestionControl,
): ProtocolPlugin {
  return {
    manifest: {
      name: `cc_${name}`,
      version: "1.0.0",
      api: "^1.0.0",
      description,
      layer: "service",
      dependencies: ["tcp"],
      binds: [],
      requires: ["tcp.congestion"],
      counters: [],
    },
    setup(ctx) {
      ctx.service<CongestionRegistry>("tcp.congestion").register(name, make);
      return {};
    },
  };
}
