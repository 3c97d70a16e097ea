import assert from "node:assert/strict";
import {
  arpPacket,
  checkEthernet,
  checkIcmp,
  checkIpv4,
  checksum,
  ethernetFrame,
  framesMatching,
  type Host,
  type HostOptions,
  ipv4Packet,
  makeHost,
} from "../../../tests/_harness.ts";
import type { ProtocolPlugin } from "../../manifest.ts";
import { CONSUMED } from "../../manifest.ts";
import { TransportErrorKind } from "../../ip/transport_error.ts";
import type { IpKey } from "../../wire/ip_address.ts";
import { PacketBuffer } from "../../packet.ts";
import { PacketPool } from "../../packet_pool.ts";
import type {
  IcmpErrorService,
  Ipv4RoutesService,
  Ipv4Service,
  RouteService,
} from "../../services.ts";
import {
  buildIcmpError,
  checkQuote,
  errorKind,
  errorSuppression,
  isIcmpErrorType,
  plateauBelow,
} from "./errors.ts";

const US = "02:00:00:00:00:01";
const PEER = "02:00:00:00:00:99";
const BROADCAST = "ff:ff:ff:ff:ff:ff";
const SECOND = 1_000_000;
const UNBOUND = 253; // no plugin binds it

interface ErrorSeen {
  kind: number;
  info: number;
  src: IpKey;
  dst: IpKey;
  proto: number;
  transport: Uint8Array;
  quotedHeaderAtL3: boolean;
}

/** A plugin bound to `ip.error` 253 that records the error metadata. */
function errorRecorder(): { plugin: ProtocolPlugin; seen: ErrorSeen[] } {
  const seen: ErrorSeen[] = [];
  const plugin: ProtocolPlugin = {
    manifest: {
      name: "recorder",
      version: "1.0.0",
      api: "^1.0.0",
      description: "records ip.error deliveries",
      layer: "transport",
      binds: [{ table: "ip.error", key: UNBOUND, optional: true }],
      counters: [],
    },
    setup() {
      return {
        receive(pkt: PacketBuffer) {
          seen.push({
            kind: pkt.errorKind,
            info: pkt.errorInfo,
            src: pkt.srcKey(),
            dst: pkt.dstKey(),
            proto: pkt.proto,
            transport: pkt.buf.slice(pkt.start, pkt.start + 8),
            quotedHeaderAtL3: pkt.buf[pkt.l3] === 0x45 && pkt.l3 + 20 === pkt.start,
          });
          return CONSUMED;
        },
      };
    },
  };
  return { plugin, seen };
}

function host(options: HostOptions = {}): Host {
  const h = makeHost({ mac: US, addresses: ["10.0.0.1/24"], ...options });
  h.inject(
    ethernetFrame(
      { dst: BROADCAST, src: PEER, etherType: 0x0806 },
      arpPacket({ operation: 1, senderMac: PEER, senderIp: "10.0.0.9", targetIp: "10.0.0.1" }),
    ),
  );
  h.take();
  return h;
}

function unbound(
  fields: { src?: string; dst?: string; dstMac?: string; size?: number } = {},
): Uint8Array {
  const data = Uint8Array.from({ length: fields.size ?? 100 }, (_, i) => i);
  return ethernetFrame(
    { dst: fields.dstMac ?? US, src: PEER, etherType: 0x0800 },
    ipv4Packet(
      { src: fields.src ?? "10.0.0.9", dst: fields.dst ?? "10.0.0.1", protocol: UNBOUND },
      data,
    ),
  );
}

/** An ICMP error from the router 10.0.0.254 to us about `quoted`. */
function errorFrame(type: number, code: number, rest: number, quoted: Uint8Array): Uint8Array {
  const icmp = new Uint8Array(8 + quoted.length);
  icmp[0] = type;
  icmp[1] = code;
  new DataView(icmp.buffer).setUint32(4, rest);
  icmp.set(quoted, 8);
  new DataView(icmp.buffer).setUint16(2, checksum(icmp));
  return ethernetFrame(
    { dst: US, src: PEER, etherType: 0x0800 },
    ipv4Packet({ src: "10.0.0.254", dst: "10.0.0.1", protocol: 1 }, icmp),
  );
}

/** A datagram we (10.0.0.1) sent to 10.9.9.9 with protocol 253 and 8+ bytes of payload. */
function ourDatagram(size = 8, src = "10.0.0.1", totalLength?: number): Uint8Array {
  return ipv4Packet(
    {
      src,
      dst: "10.9.9.9",
      protocol: UNBOUND,
      dontFragment: true,
      ...(totalLength !== undefined ? { totalLength } : {}),
    },
    Uint8Array.from({ length: size }, (_, i) => 0xc0 + i),
  );
}

// ---- helpers ----------------------------------------------------------------------------

Deno.test("isIcmpErrorType() knows the error types, and treats unknown types as errors", () => {
  assert.deepEqual(
    [0, 3, 4, 5, 8, 11, 12, 13, 18, 19, 200].map(isIcmpErrorType),
    [false, true, true, true, false, true, true, false, false, true, true],
  );
});

Deno.test("buildIcmpError() quotes at most 548 bytes, never past the total length", () => {
  const pool = new PacketPool();
  const big = PacketBuffer.wrap(
    ipv4Packet({ src: "1.2.3.4", dst: "5.6.7.8", protocol: 17 }, new Uint8Array(2000)),
  );
  big.l3 = 0;
  const e1 = buildIcmpError(pool, big, 3, 3, 0);
  assert.equal(e1.length, 8 + 548);
  const padded = new Uint8Array(60);
  padded.set(ipv4Packet({ src: "1.2.3.4", dst: "5.6.7.8", protocol: 17 }, new Uint8Array(12)));
  const small = PacketBuffer.wrap(padded); // 32-byte datagram in a 60-byte frame
  small.l3 = 0;
  const e2 = buildIcmpError(pool, small, 11, 0, 0);
  assert.equal(e2.length, 8 + 32);
  assert.equal(checksum(e2.data), 0);
  const e3 = buildIcmpError(pool, small, 12, 0, 9);
  assert.equal(e3.buf[e3.start + 4], 9, "parameter problem pointer in the first byte");
  for (const e of [e1, e2, e3]) e.release();
  assert.equal(pool.outstanding, 0);
});

Deno.test("errorSuppression() applies RFC 1122's never-send rules", () => {
  function verdict(h: Parameters<typeof ipv4Packet>[0], payload = new Uint8Array(8), flags = 0) {
    const p = PacketBuffer.wrap(ipv4Packet(h, payload));
    p.l3 = 0;
    p.flags = flags;
    return errorSuppression(p);
  }
  const base = { src: "10.0.0.9", dst: "10.0.0.1", protocol: 17 };
  assert.equal(verdict(base), undefined);
  assert.equal(verdict({ ...base, dst: "224.0.0.9" }), "no_error_for_broadcast");
  assert.equal(verdict({ ...base, dst: "255.255.255.255" }), "no_error_for_broadcast");
  assert.equal(verdict(base, undefined, 4 /* NET_BROADCAST */), "no_error_for_broadcast");
  assert.equal(verdict(base, undefined, 2 /* LINK_MULTICAST */), "no_error_for_broadcast");
  assert.equal(verdict({ ...base, fragmentOffset: 1 }), "no_error_for_fragment");
  assert.equal(verdict({ ...base, moreFragments: true }), undefined, "the first fragment is fine");
  for (const src of ["0.0.0.0", "0.1.2.3", "230.1.1.1", "240.0.0.1", "255.255.255.255"]) {
    assert.equal(verdict({ ...base, src }), "no_error_for_bad_source", src);
  }
  assert.equal(verdict({ ...base, src: "127.0.0.1" }), undefined, "our own loopback traffic");
  const icmp = { ...base, protocol: 1 };
  assert.equal(verdict(icmp, new Uint8Array([8, 0, 0, 0, 0, 0, 0, 0])), undefined, "echo request");
  for (const t of [3, 4, 5, 11, 12, 42]) {
    assert.equal(
      verdict(icmp, new Uint8Array([t, 0, 0, 0, 0, 0, 0, 0])),
      "no_error_for_icmp_error",
    );
  }
  const bare = PacketBuffer.wrap(new Uint8Array(10));
  assert.equal(errorSuppression(bare), "no_error_for_bad_packet");
});

Deno.test("checkQuote() wants version 4, IHL >= 5 and 8 bytes past the quoted header", () => {
  const icmp = new Uint8Array(8 + 24 + 8);
  icmp[8] = 0x46; // IHL 6: 24-byte header
  const dv = new DataView(icmp.buffer);
  assert.equal(checkQuote(dv, 0, icmp.length), 8);
  assert.equal(checkQuote(dv, 0, icmp.length - 1), "bad_quote");
  icmp[8] = 0x44;
  assert.equal(checkQuote(dv, 0, icmp.length), "bad_quote");
  icmp[8] = 0x65;
  assert.equal(checkQuote(dv, 0, icmp.length), "bad_quote");
});

Deno.test("plateauBelow() follows the RFC 1191 table", () => {
  assert.deepEqual([65535, 9000, 1500, 1006, 576, 69].map(plateauBelow), [
    32000,
    8166,
    1492,
    508,
    508,
    68,
  ]);
});

// ---- sending, through the plugin ----------------------------------------------------------

Deno.test("icmp sends protocol unreachable for a protocol no plugin binds, quoting up to 576 bytes", () => {
  const h = host();
  const out = h.inject(unbound({ size: 1000 }));
  assert.equal(out.length, 1);
  checkEthernet(
    { dst: PEER },
    checkIpv4(
      { src: "10.0.0.1", dst: "10.0.0.9", protocol: 1, totalLength: 576 },
      checkIcmp({ type: 3, code: 2 }),
    ),
  )(out[0]!);
  // The quote: the offending header as received (total length 1020), then its data.
  const quote = out[0]!.subarray(14 + 20 + 8);
  assert.equal(quote.length, 548);
  assert.deepEqual(
    quote.subarray(0, 20),
    ipv4Packet({ src: "10.0.0.9", dst: "10.0.0.1", protocol: UNBOUND }, new Uint8Array(1000))
      .subarray(0, 20),
  );
  assert.equal(quote[20 + 99], 99);
  assert.equal(h.counter("ipv4.rx.unknown_protocol"), 1);
  assert.equal(h.counter("icmp.tx.dest_unreachable"), 1);
  h.finish();
});

Deno.test("icmp sends no error about a datagram to a broadcast address or in a link broadcast", () => {
  const h = host();
  assert.deepEqual(h.inject(unbound({ dst: "10.0.0.255" })), []);
  assert.deepEqual(h.inject(unbound({ dst: "255.255.255.255", dstMac: BROADCAST })), []);
  assert.deepEqual(h.inject(unbound({ dstMac: BROADCAST })), []);
  assert.equal(h.counter("icmp.tx.no_error_for_broadcast"), 3);
  h.finish();
});

Deno.test("icmp sends no error about a datagram from 0.0.0.0", () => {
  const h = host();
  // From the wire, IPv4 drops it first as a martian source.
  assert.deepEqual(h.inject(unbound({ src: "0.0.0.0" })), []);
  assert.equal(h.counter("ipv4.rx.martian_zero_source"), 1);
  const p = PacketBuffer.wrap(
    ipv4Packet({ src: "0.0.0.0", dst: "10.0.0.1", protocol: 253 }, new Uint8Array(8)),
  );
  p.l3 = 0;
  h.stack.service<IcmpErrorService>("icmp.error")!.send(p, 3, 2, 0);
  h.runFor(0);
  assert.deepEqual(h.take(), []);
  assert.equal(h.counter("icmp.tx.no_error_for_bad_source"), 1);
  h.finish();
});

Deno.test("icmp.error sends about an echo request but never about an ICMP error or a later fragment", () => {
  const h = host({ plugins: { icmp: { ratelimit: 0 } } });
  const svc = h.stack.service<IcmpErrorService>("icmp.error")!;
  function about(bytes: Uint8Array): PacketBuffer {
    const p = PacketBuffer.wrap(bytes);
    p.l3 = 0;
    return p;
  }
  const echo = ipv4Packet(
    { src: "10.0.0.9", dst: "10.0.0.1", protocol: 1 },
    new Uint8Array([8, 0, 0, 0, 0, 1, 0, 1]),
  );
  svc.send(about(echo), 3, 3, 0);
  const err = ipv4Packet(
    { src: "10.0.0.9", dst: "10.0.0.1", protocol: 1 },
    new Uint8Array([3, 3, 0, 0, 0, 0, 0, 0]),
  );
  svc.send(about(err), 3, 3, 0);
  const later = ipv4Packet(
    { src: "10.0.0.9", dst: "10.0.0.1", protocol: 17, fragmentOffset: 185 },
    new Uint8Array(8),
  );
  svc.send(about(later), 3, 3, 0);
  h.runFor(0);
  assert.equal(h.take().length, 1);
  assert.equal(h.counter("icmp.tx.no_error_for_icmp_error"), 1);
  assert.equal(h.counter("icmp.tx.no_error_for_fragment"), 1);
  h.finish();
});

Deno.test("icmp rate-limits errors per destination (burst 6, then 1/s) and counts the rest", () => {
  const h = host();
  let sent = 0;
  for (let i = 0; i < 10; i++) sent += h.inject(unbound()).length;
  assert.equal(sent, 6);
  assert.equal(h.counter("icmp.tx.rate_limited"), 4);
  h.runFor(SECOND);
  assert.equal(h.inject(unbound()).length, 1);
  assert.equal(h.inject(unbound()).length, 0);
  h.finish();
});

Deno.test("icmp with ratelimit 0 and msgsPerSecond 0 sends every error", () => {
  const h = host({ plugins: { icmp: { ratelimit: 0, msgsPerSecond: 0 } } });
  let sent = 0;
  for (let i = 0; i < 100; i++) sent += h.inject(unbound()).length;
  assert.equal(sent, 100);
  h.finish();
});

Deno.test("icmp never rate-limits fragmentation needed (PMTU discovery)", () => {
  const h = host();
  const svc = h.stack.service<IcmpErrorService>("icmp.error")!;
  const p = PacketBuffer.wrap(
    ipv4Packet({ src: "10.0.0.9", dst: "10.9.9.9", protocol: 17 }, new Uint8Array(8)),
  );
  p.l3 = 0;
  for (let i = 0; i < 20; i++) svc.send(p, 3, 4, 1400);
  h.runFor(0);
  const out = framesMatching(
    h.take(),
    checkEthernet({}, checkIpv4({}, checkIcmp({ type: 3, code: 4 }))),
  );
  assert.equal(out.length, 20);
  assert.equal(new DataView(out[0]!.buffer).getUint16(14 + 20 + 6), 1400);
  h.finish();
});

// ---- receiving -------------------------------------------------------------------------------

Deno.test("icmp delivers a received error into ip.error with the quoted header's metadata", () => {
  const rec = errorRecorder();
  const h = host({ extraPlugins: [rec.plugin] });
  h.inject(errorFrame(3, 1, 0, ourDatagram(8)));
  h.inject(errorFrame(11, 0, 0, ourDatagram(30)));
  h.inject(errorFrame(12, 0, 0x14000000, ourDatagram(8)));
  assert.deepEqual(rec.seen.map((e) => [e.kind, e.info]), [
    [TransportErrorKind.HOST_UNREACHABLE, 0],
    [TransportErrorKind.TIME_EXCEEDED, 0],
    [TransportErrorKind.PARAMETER_PROBLEM, 20],
  ]);
  for (const e of rec.seen) {
    assert.equal(e.src, 0x0a000001, "the source is our own address (the quoted source)");
    assert.equal(e.dst, 0x0a090909);
    assert.equal(e.proto, UNBOUND);
    assert.deepEqual([...e.transport], [0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7]);
    assert.ok(e.quotedHeaderAtL3);
  }
  assert.equal(h.counter("icmp.rx.error_delivered"), 3);
  h.finish();
});

Deno.test("icmp passes the MTU of fragmentation needed as errorInfo and learns nothing until a transport matches the quote", () => {
  const rec = errorRecorder();
  const h = host({ extraPlugins: [rec.plugin] });
  h.stack.addRoute("default", { gateway: "10.0.0.254" });
  h.inject(errorFrame(3, 4, 1280, ourDatagram(8, "10.0.0.1", 1500)));
  // Next-hop MTU 0 (an old router, RFC 1191 §5): the plateau below the quoted length.
  h.inject(errorFrame(3, 4, 0, ourDatagram(8, "10.0.0.1", 1280)));
  assert.deepEqual(rec.seen.map((e) => e.info), [1280, 1006]);
  const routes = h.stack.service<Ipv4RoutesService>("ipv4.routes")!;
  assert.equal(routes.pmtu(0x0a090909), undefined);
  assert.equal(h.stack.routeGet("10.9.9.9")!.mtu, 1500);
  // What a transport calls once the quote is one of its flows: lowers, never raises.
  const net = h.stack.service<RouteService>("ipv4.route")!;
  assert.equal(net.learnPathMtu(0x0a090909, 1280), 1280);
  assert.equal(net.learnPathMtu(0x0a090909, 1400), 1280);
  assert.equal(h.stack.routeGet("10.9.9.9")!.mtu, 1280);
  assert.equal(h.counter("icmp.rx.frag_needed"), 2);
  h.finish();
});

Deno.test("icmp answers our own loopback datagram to an unbound protocol; the error comes back to ip.error", () => {
  const rec = errorRecorder();
  const h = host({ extraPlugins: [rec.plugin] });
  const ipv4 = h.stack.service<Ipv4Service>("ipv4.send")!;
  const pkt = h.stack.pool.alloc(8);
  pkt.data.set([1, 2, 3, 4, 5, 6, 7, 8]);
  assert.equal(ipv4.send(pkt, 0x7f000001, 0x7f000001, UNBOUND, 0, 0), undefined);
  assert.equal(h.counter("ipv4.rx.unknown_protocol"), 1);
  assert.deepEqual(rec.seen.map((e) => [e.kind, e.src, e.dst]), [[
    TransportErrorKind.PROTOCOL_UNREACHABLE,
    0x7f000001,
    0x7f000001,
  ]]);
  assert.deepEqual(h.take(), [], "all of it off the wire");
  h.finish();
});

Deno.test("icmp drops errors about datagrams we did not send, or with a short quote", () => {
  const rec = errorRecorder();
  const h = host({ extraPlugins: [rec.plugin] });
  h.inject(errorFrame(3, 3, 0, ourDatagram(8, "10.0.0.77")));
  assert.equal(h.counter("icmp.rx.error_not_ours"), 1);
  h.inject(errorFrame(3, 3, 0, ourDatagram(7)));
  assert.equal(h.counter("icmp.rx.bad_quote"), 1);
  h.inject(errorFrame(3, 3, 0, ourDatagram(8, "127.0.0.1")));
  assert.equal(h.counter("icmp.rx.error_not_ours"), 2, "a 127/8 quote from a wire is forged");
  assert.equal(rec.seen.length, 0);
  h.finish();
});

Deno.test("icmp ignores source quench (RFC 6633) and redirects, and counts errors nobody claims", () => {
  const h = host();
  h.inject(errorFrame(4, 0, 0, ourDatagram(8)));
  h.inject(errorFrame(5, 1, 0x0a0000fe, ourDatagram(8)));
  h.inject(errorFrame(3, 3, 0, ourDatagram(8)));
  assert.equal(h.counter("icmp.rx.source_quench_ignored"), 1);
  assert.equal(h.counter("icmp.rx.redirect_ignored"), 1);
  assert.equal(h.counter("icmp.rx.error_unclaimed"), 1);
  assert.deepEqual(h.take(), [], "never an error about an error");
  h.finish();
});

Deno.test("errorKind() maps every ICMPv4 error type and unreachable code to a transport error kind", () => {
  const K = TransportErrorKind;
  const unreachable = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16].map((c) =>
    errorKind(3, c)
  );
  assert.deepEqual(unreachable, [
    K.NETWORK_UNREACHABLE,
    K.HOST_UNREACHABLE,
    K.PROTOCOL_UNREACHABLE,
    K.PORT_UNREACHABLE,
    K.PACKET_TOO_BIG,
    K.SOURCE_ROUTE_FAILED,
    K.NETWORK_UNREACHABLE,
    K.HOST_UNREACHABLE,
    K.HOST_UNREACHABLE,
    K.NETWORK_UNREACHABLE,
    K.PROHIBITED,
    K.NETWORK_UNREACHABLE,
    K.HOST_UNREACHABLE,
    K.PROHIBITED,
    K.HOST_UNREACHABLE,
    K.HOST_UNREACHABLE,
    K.HOST_UNREACHABLE,
  ]);
  assert.equal(errorKind(11, 1), K.TIME_EXCEEDED);
  assert.equal(errorKind(12, 0), K.PARAMETER_PROBLEM);
  assert.equal(errorKind(4, 0), K.SOURCE_QUENCH);
  assert.equal(errorKind(0, 0), K.NONE);
});
