/**
 * TCP and UDP through one code path for either IP version: a stand-in IPv6
 * network plugin (no wire IPv6 yet) provides `ipv6.route` with the
 * `RouteService` contract and loops what it sends back into `ip.protocol`
 * with `family` 6 and the address offsets set, as a real IPv6 plugin will.
 */
import assert from "node:assert/strict";
import { createStack, type Stack } from "../../mod.ts";
import type { ProtocolPlugin } from "../manifest.ts";
import type { PacketBuffer } from "../packet.ts";
import { finishPartialChecksum } from "../packet_flags.ts";
import type { Route, RouteService, UdpService, UdpSocket } from "../services.ts";
import { finishChecksum, sumBytes } from "../wire/checksum.ts";
import { pseudoHeaderSumV6 } from "../wire/checksum.ts";
import {
  IpAddress,
  type IpKey,
  ipKeyHash,
  isUnspecifiedKey,
  writeIpKey,
} from "../wire/ip_address.ts";
import {
  emitTcp,
  parseTcp,
  TCP_ACK,
  TCP_SYN,
  tcpHeaderLength,
  TcpPacket,
  type TcpRepr,
} from "../wire/tcp.ts";
import { pluginsWith } from "../../tests/_harness.ts";
import { TransportErrorKind } from "./transport_error.ts";

const OURS = IpAddress.parse("fd00::1")!;

/** Options of the stand-in. */
interface StandinOptions {
  /**
   * Routes every other IPv6 destination, with this path MTU, from
   * {@linkcode OURS}; what is sent there is kept in `sent`, not delivered.
   */
  readonly remoteMtu?: number;
}

interface Standin {
  plugin: ProtocolPlugin;
  /** IPv6 packets (header included) sent to remote destinations. */
  sent: Uint8Array[];
  /** Delivers an IPv6 packet from `src` to `dst` carrying `payload` of `protocol`. */
  inject(src: IpKey, dst: IpKey, protocol: number, payload: Uint8Array): void;
  /** Checksums of the transport packets sent, checked against the wire's pseudoHeaderSumV6. */
  checksumsOk: boolean[];
  /** Delivers an error of `kind` quoting the last packet sent with protocol `proto`. */
  error(proto: number, kind: number, info: number): void;
  /** While true, what is sent is dropped (a black hole), not looped back. */
  hold: boolean;
}

function ipv6Standin(options: StandinOptions = {}): Standin {
  const checksumsOk: boolean[] = [];
  const sent: Uint8Array[] = [];
  const remoteMtu = options.remoteMtu;
  let lastSent: Uint8Array | null = null;
  let deliverError: (proto: number, kind: number, info: number) => void = () => {};
  let deliverPacket: (bytes: Uint8Array) => void = () => {};
  const plugin: ProtocolPlugin = {
    manifest: {
      name: "ipv6standin",
      version: "1.0.0",
      api: "^1.0.0",
      description: "test stand-in: an IPv6 route service that loops back",
      layer: "network",
      binds: [],
      exposes: ["ip.protocol", "ip.error"],
      provides: ["ipv6.route"],
      counters: [],
    },
    setup(ctx) {
      const protocols = ctx.table("ip.protocol");
      const errors = ctx.table("ip.error");
      const queue: PacketBuffer[] = [];
      let draining = false;
      function isLocal(a: IpKey): boolean {
        return a === OURS.key || a === IpAddress.LOOPBACK6.key;
      }
      function send(
        pkt: PacketBuffer,
        src: IpKey,
        dst: IpKey,
        protocol: number,
        _ttl: number,
        _flags: number,
      ): string | undefined {
        const remote = typeof dst !== "number" && !isLocal(dst) && remoteMtu !== undefined;
        if (typeof dst === "number" || !isLocal(dst) && !remote) {
          pkt.release();
          return "no_route";
        }
        if (isUnspecifiedKey(src)) src = remote ? OURS.key : dst;
        const len = pkt.length;
        const s6 = IpAddress.fromKey(src).bytes();
        const d6 = IpAddress.fromKey(dst).bytes();
        // TCP leaves its checksum partial for the IP layer: a real IPv6 output
        // completes it for local delivery, and so does this stand-in.
        pkt.l4 = pkt.start;
        pkt.proto = protocol;
        finishPartialChecksum(pkt);
        checksumsOk.push(
          sumBytes(pkt.data, pseudoHeaderSumV6(s6, d6, protocol, len)) === 0xffff,
        );
        const at = pkt.prepend(40);
        const b = pkt.buf;
        b.fill(0, at, at + 40);
        b[at] = 0x60;
        pkt.dv.setUint16(at + 4, len);
        b[at + 6] = protocol;
        b[at + 7] = 64;
        writeIpKey(src, b, at + 8);
        writeIpKey(dst, b, at + 24);
        lastSent = b.slice(at, pkt.end); // copy: kept for error()
        if (remote) sent.push(lastSent);
        if (remote || standin.hold) {
          pkt.release();
          return undefined;
        }
        queue.push(pkt);
        if (draining) return undefined;
        draining = true;
        for (let p = queue.shift(); p !== undefined; p = queue.shift()) deliverUp(p);
        draining = false;
        return undefined;
      }
      /** Hands an IPv6 packet (data = header + payload) to the transports; releases it. */
      function deliverUp(p: PacketBuffer): void {
        const h = p.start;
        p.l3 = h;
        p.family = 6;
        p.srcAt = h + 8;
        p.dstAt = h + 24;
        p.proto = p.buf[h + 6]!;
        p.ttl = p.buf[h + 7]!;
        p.l4 = p.start = h + 40;
        ctx.deliver(protocols, p.proto, p, ctx.interfaces.list()[0]!);
        p.release();
      }
      deliverPacket = (bytes) => deliverUp(ctx.pool.copyOf(bytes));
      deliverError = (proto, kind, info) => {
        const q = ctx.pool.copyOf(lastSent!);
        q.l3 = q.start;
        q.family = 6;
        q.srcAt = q.start + 8;
        q.dstAt = q.start + 24;
        q.proto = proto;
        q.l4 = q.start = q.start + 40;
        q.errorKind = kind;
        q.errorInfo = info;
        ctx.deliver(errors, proto, q, ctx.interfaces.list()[0]!);
        q.release();
      };
      const service: RouteService = {
        family: 6,
        headerLength: 40,
        minimumMtu: 1280,
        pathMtu: (d) => isLocal(d) ? 65535 : remoteMtu ?? 0,
        learnPathMtu: (_d, mtu) => mtu,
        pmtuExpires: () => 0,
        route(destination) {
          if (!isLocal(destination.key)) return "no_route";
          const host = { send };
          return {
            family: 6,
            source: destination,
            destination,
            ifindex: 1,
            nextHop: destination,
            mtu: 1500,
            headerLength: 40,
            minimumMtu: 1280,
            local: true,
            pmtuExpires: 0,
            send(pkt: PacketBuffer, protocol: number, ttl: number, flags: number) {
              return host.send(pkt, destination.key, destination.key, protocol, ttl, flags);
            },
          } satisfies Route;
        },
        selectSource: (d) =>
          isLocal(d) ? d : remoteMtu !== undefined ? OURS.key : IpAddress.ANY6.key,
        send,
        isLocal,
        isAssigned: (a) => a === OURS.key,
        isBroadcast: () => false,
      };
      return { services: { "ipv6.route": service } };
    },
  };
  const standin: Standin = {
    plugin,
    sent,
    inject(src, dst, protocol, payload) {
      const b = new Uint8Array(40 + payload.length);
      b[0] = 0x60;
      new DataView(b.buffer).setUint16(4, payload.length);
      b[6] = protocol;
      b[7] = 64;
      writeIpKey(src, b, 8);
      writeIpKey(dst, b, 24);
      b.set(payload, 40);
      deliverPacket(b);
    },
    checksumsOk,
    error: (proto, kind, info) => deliverError(proto, kind, info),
    hold: false,
  };
  return standin;
}

/** The default plugins the stand-in replaces: IPv6, ICMPv6 and those that need them. */
const IPV6_DEFAULTS = ["ipv6", "icmpv6", "ndp", "mld", "slaac"];

function stackWith(
  standin: Standin | null,
  options: { tcp?: Record<string, number | boolean>; mtu?: number; sent?: Uint8Array[] } = {},
): Stack {
  const stack = createStack({
    seed: 1,
    // The stand-in (or nothing) in place of the real IPv6 defaults (and those built on them).
    plugins: pluginsWith(
      options.tcp === undefined ? {} : { tcp: options.tcp },
      standin === null ? [] : [standin.plugin],
    ).filter((e) => !IPV6_DEFAULTS.includes(e.plugin.manifest.name)),
  });
  const sent = options.sent;
  stack.addInterface({
    driver: {
      linkType: 101,
      mtu: options.mtu ?? 1500,
      attach() {},
      transmit(p) {
        sent?.push(p.data.slice()); // copy: kept for the test
        p.release();
      },
      close() {},
    },
    addresses: ["10.0.0.1/24"],
  });
  return stack;
}

function open(stack: Stack, options: Parameters<UdpService["open"]>[0]): UdpSocket {
  const s = stack.service<UdpService>("udp.sockets")!.open(options);
  assert.ok(typeof s !== "string", String(s));
  return s;
}

Deno.test("udp sends and receives over IPv6 through the same code path as IPv4", () => {
  const v6 = ipv6Standin();
  const stack = stackWith(v6);
  const server = open(stack, { address: OURS, port: 7 });
  const client = open(stack, { family: 6 });
  assert.equal(client.localAddress.toString(), "::");
  assert.equal(client.send(new Uint8Array([1, 2, 3]), OURS, 7), undefined);
  const into = new Uint8Array(8);
  assert.equal(server.recv(into), 3);
  assert.deepEqual([...into.subarray(0, 3)], [1, 2, 3]);
  assert.equal(server.peerAddress.toString(), "fd00::1");
  assert.equal(server.peerPort, client.localPort);
  assert.deepEqual(v6.checksumsOk, [true]);
  // The echo back, to the peer as the receive path reported it.
  assert.equal(server.send(into.subarray(0, 3), server.peerAddress, server.peerPort), undefined);
  assert.equal(client.recv(into), 3);
  assert.deepEqual(v6.checksumsOk, [true, true]);
  // An IPv4 socket on the same port number does not hear IPv6.
  const v4 = open(stack, { port: 9 });
  assert.equal(client.send(new Uint8Array(1), OURS, 9), undefined);
  assert.equal(v4.queued, 0);
  assert.equal(stack.counters.value("udp.rx.no_socket"), 1);
  assert.deepEqual(
    stack.service<UdpService>("udp.sockets")!.list().map((s) => s.local),
    // An unbound IPv6 socket is dual-stack (Linux's default): ss shows `*:port`.
    ["[fd00::1]:7", `*:${client.localPort}`, "0.0.0.0:9"],
  );
  stack.close();
});

Deno.test("udp reports an IPv6 error by kind to a connected socket", () => {
  const v6 = ipv6Standin();
  const stack = stackWith(v6);
  const client = open(stack, { family: 6 });
  assert.equal(client.connect(OURS, 4000), undefined);
  assert.equal(client.localAddress.toString(), "fd00::1", "bound to the route's source");
  assert.equal(client.send(new Uint8Array(4), null, 0), undefined); // nobody on 4000
  v6.error(17, TransportErrorKind.PORT_UNREACHABLE, 0);
  assert.equal(client.takeError(), "connection_refused");
  stack.close();
});

Deno.test("udp without an IPv6 plugin: IPv6 sockets and destinations fail clearly", async () => {
  const stack = stackWith(null);
  const udp = stack.service<UdpService>("udp.sockets")!;
  assert.equal(udp.open({ family: 6 }), "family_not_supported");
  const v4 = open(stack, {});
  assert.equal(v4.send(new Uint8Array(1), OURS, 7), "invalid_destination");
  assert.throws(
    () => stack.listenDatagram({ transport: "udp", hostname: "::" }),
    Deno.errors.NetworkUnreachable,
  );
  await assert.rejects(
    stack.connect({ hostname: "2001:db8::1", port: 80 }),
    Deno.errors.NetworkUnreachable,
  );
  assert.throws(() => stack.listen({ hostname: "::", port: 80 }), Deno.errors.NetworkUnreachable);
  stack.close();
});

Deno.test("tcp connects, transfers and closes over IPv6 through the same code path", async () => {
  const v6 = ipv6Standin();
  const stack = stackWith(v6);
  const listener = stack.listen({ hostname: "fd00::1", port: 80 });
  assert.equal(listener.addr.hostname, "fd00::1");
  const [c, s] = await Promise.all([
    stack.connect({ hostname: "fd00::1", port: 80 }),
    listener.accept(),
  ]);
  assert.equal(c.remoteAddr.hostname, "fd00::1");
  assert.equal(s.localAddr.hostname, "fd00::1");
  assert.equal(await c.write(new Uint8Array([5, 6, 7])), 3);
  const buf = new Uint8Array(8);
  assert.equal(await s.read(buf), 3);
  assert.deepEqual([...buf.subarray(0, 3)], [5, 6, 7]);
  assert.ok(v6.checksumsOk.length >= 3 && v6.checksumsOk.every((ok) => ok));
  const row = stack.sockets().find((r) => r.state === "ESTABLISHED");
  assert.match(row!.local, /^\[fd00::1\]:/);
  c.close();
  s.close();
  listener.close();
  stack.close();
});

Deno.test("tcp lowers the MSS on an IPv6 packet-too-big by kind, with the route's header length", async () => {
  const v6 = ipv6Standin();
  const stack = stackWith(v6);
  const listener = stack.listen({ hostname: "fd00::1", port: 80 });
  const [c, s] = await Promise.all([
    stack.connect({ hostname: "fd00::1", port: 80 }),
    listener.accept(),
  ]);
  v6.hold = true; // the data stays unacknowledged, so an error quoting it is plausible
  await c.write(new Uint8Array(100));
  // Below IPv6's minimum MTU (the route's minimumMtu, 1280): ignored.
  v6.error(6, TransportErrorKind.PACKET_TOO_BIG, 1000);
  assert.equal(stack.counters.value("tcp.rx.icmp_ignored"), 1);
  assert.equal(stack.counters.value("tcp.pmtu_updates"), 0);
  // 1280 - 40 (IPv6) - 20 (TCP) - 12 (timestamps) = 1208 < the loopback MSS: lowered.
  v6.error(6, TransportErrorKind.PACKET_TOO_BIG, 1280);
  assert.equal(stack.counters.value("tcp.pmtu_updates"), 1);
  // Port unreachable on an established connection is a soft error, not an abort.
  v6.error(6, TransportErrorKind.PORT_UNREACHABLE, 0);
  assert.equal(stack.counters.value("tcp.attempt_fails"), 0);
  v6.hold = false;
  c.close();
  s.close();
  listener.close();
  stack.close();
});

/** The TCP header in a packet the stand-in or the link kept (after `ipHeader` bytes). */
function tcpOf(packet: Uint8Array, ipHeader = 40): TcpRepr {
  const p = TcpPacket.check(packet.subarray(ipHeader));
  assert.ok(typeof p !== "string", String(p));
  const r = parseTcp(p, { src: 0, dst: 0 }, { verifyChecksum: false });
  assert.ok(typeof r !== "string", String(r));
  return r;
}

/** A TCP segment from `src` to `dst` (IPv6), with its checksum. */
function tcpBytes(repr: TcpRepr, src: IpKey, dst: IpKey): Uint8Array {
  const b = new Uint8Array(tcpHeaderLength(repr));
  emitTcp(repr, b, { src: 0, dst: 0 });
  b[16] = b[17] = 0;
  const s6 = IpAddress.fromKey(src).bytes(), d6 = IpAddress.fromKey(dst).bytes();
  new DataView(b.buffer).setUint16(
    16,
    finishChecksum(sumBytes(b, pseudoHeaderSumV6(s6, d6, 6, b.length))),
  );
  return b;
}

function syn(srcPort: number, options: Partial<TcpRepr> = {}): TcpRepr {
  return {
    srcPort,
    dstPort: 80,
    seq: 1000,
    ack: 0,
    flags: TCP_SYN,
    window: 65535,
    payloadLength: 0,
    ...options,
  };
}

/**
 * Two IPv6 peers that differ only in their high 96 bits (the low 32 are
 * `::1`) and whose unkeyed 32-bit fold is the same: TCP used to hash that
 * fold, so such a pair (easy to compute) shared ISNs, timestamp offsets,
 * cookies and ephemeral ports.
 */
const PEER_A = IpAddress.parse("2001:db8:cead:7bb7:38c3::1")!.key;
const PEER_B = IpAddress.parse("2001:db8:e5be:19f5:dd36::1")!.key;

Deno.test("tcp over IPv6: peers differing only in the high 96 bits get different ISNs, timestamp offsets, cookies and ports", async () => {
  assert.equal(ipKeyHash(PEER_A), ipKeyHash(PEER_B), "the pair folds to the same 32 bits");
  // Each answer from a fresh stack with the same seed and clock: only the peer differs.
  function synAckTo(peer: IpKey, cookie: boolean): TcpRepr {
    const v6 = ipv6Standin({ remoteMtu: 1500 });
    const stack = stackWith(v6, { tcp: { synBacklog: 1 } });
    const l = stack.listen({ hostname: "fd00::1", port: 80 });
    const filler = IpAddress.parse("2001:db8::7")!.key;
    if (cookie) v6.inject(filler, OURS.key, 6, tcpBytes(syn(1), filler, OURS.key));
    const ts = { mss: 1440, timestamp: { value: 5, echo: 0 } };
    v6.inject(peer, OURS.key, 6, tcpBytes(syn(40000, ts), peer, OURS.key));
    const r = tcpOf(v6.sent.at(-1)!);
    assert.equal(r.flags, TCP_SYN | TCP_ACK);
    assert.equal(stack.counters.value("tcp.syncookies_sent"), cookie ? 1 : 0);
    l.close();
    stack.close();
    return r;
  }
  const a = synAckTo(PEER_A, false), b = synAckTo(PEER_B, false);
  assert.notEqual(a.seq, b.seq, "ISN (RFC 6528)");
  assert.notEqual(a.timestamp!.value, b.timestamp!.value, "timestamp offset (RFC 7323 §5.4)");
  const ca = synAckTo(PEER_A, true), cb = synAckTo(PEER_B, true);
  assert.notEqual(ca.seq, cb.seq, "SYN cookie");
  async function portTo(peer: IpKey): Promise<number> {
    const v6 = ipv6Standin({ remoteMtu: 1500 });
    const stack = stackWith(v6);
    const hostname = IpAddress.fromKey(peer).toString();
    const done = stack.connect({ hostname, port: 443 }).catch(() => {});
    const port = tcpOf(v6.sent[0]!).srcPort;
    stack.close();
    await done;
    return port;
  }
  assert.notEqual(await portTo(PEER_A), await portTo(PEER_B), "ephemeral port (RFC 6056)");
});

Deno.test("tcp over IPv6: the SYN's MSS is the route MTU less 60: 1220 on a 1280 route, 1440 on a 1500 route", async () => {
  for (const [mtu, mss] of [[1280, 1220], [1500, 1440]] as const) {
    const v6 = ipv6Standin({ remoteMtu: mtu });
    const stack = stackWith(v6);
    const done = stack.connect({ hostname: "2001:db8::99", port: 80 }).catch(() => {});
    assert.equal(tcpOf(v6.sent[0]!).mss, mss, `MTU ${mtu}`);
    stack.close();
    await done;
  }
});

Deno.test("tcp over IPv6: a SYN without an MSS option gets a send MSS of 1220 (RFC 9293 §3.7.1), not IPv4's 536", () => {
  const v6 = ipv6Standin({ remoteMtu: 1500 });
  const stack = stackWith(v6);
  const l = stack.listen({ hostname: "fd00::1", port: 80 });
  v6.inject(PEER_A, OURS.key, 6, tcpBytes(syn(40000), PEER_A, OURS.key));
  assert.equal(tcpOf(v6.sent[0]!).mss, 1440);
  const row = stack.sockets().find((r) => r.state === "SYN-RECEIVED")!;
  assert.equal(row.mss, 1220);
  l.close();
  stack.close();
});

Deno.test("tcp over IPv4: the SYN's MSS from a 9000-byte route is 8960", async () => {
  const sent: Uint8Array[] = [];
  const stack = stackWith(null, { mtu: 9000, sent });
  const done = stack.connect({ hostname: "10.0.0.2", port: 80 }).catch(() => {});
  assert.equal(tcpOf(sent[0]!, 20).mss, 8960);
  stack.close();
  await done;
});

Deno.test("tcp over IPv6: a SYN-cookie connection keeps an IPv6 peer's MSS of 1220 (IPv6 cookie MSS table), not IPv4's 536", () => {
  const v6 = ipv6Standin({ remoteMtu: 1500 });
  const stack = stackWith(v6, { tcp: { synBacklog: 1 } });
  const l = stack.listen({ hostname: "fd00::1", port: 80 });
  const filler = IpAddress.parse("2001:db8::7")!.key;
  v6.inject(filler, OURS.key, 6, tcpBytes(syn(1), filler, OURS.key));
  v6.inject(PEER_A, OURS.key, 6, tcpBytes(syn(40000, { mss: 1220 }), PEER_A, OURS.key));
  const sa = tcpOf(v6.sent.at(-1)!);
  assert.equal(stack.counters.value("tcp.syncookies_sent"), 1);
  const ack = { srcPort: 40000, dstPort: 80, seq: 1001, ack: (sa.seq + 1) >>> 0, flags: TCP_ACK };
  v6.inject(
    PEER_A,
    OURS.key,
    6,
    tcpBytes({ ...ack, window: 65535, payloadLength: 0 }, PEER_A, OURS.key),
  );
  assert.equal(stack.counters.value("tcp.syncookies_recv"), 1);
  const row = stack.sockets().find((r) => r.state === "ESTABLISHED")!;
  assert.equal(row.mss, 1220);
  l.close();
  stack.close();
});
