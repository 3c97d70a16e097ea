/**
 * The ICMP plugin: answers echo requests and matches echo replies to the
 * pings this stack sent.
 *
 * @module
 */
import type { Instant } from "../../clock.ts";
import { CONSUMED } from "../../manifest.ts";
import type {
  PluginContext,
  ProtocolHandlers,
  ProtocolPlugin,
  RxContext,
  Verdict,
} from "../../manifest.ts";
import { type PacketBuffer, PacketFlags } from "../../packet.ts";
import type { IcmpEchoService, Ipv4Service, PingOptions, PingReply } from "../../services.ts";
import { Ipv4SendFlags } from "../../services.ts";
import type { Timer } from "../../timers.ts";
import { formatIpv4Address } from "../../wire/address.ts";
import { finishChecksum, sumBytes } from "../../wire/checksum.ts";

const IP_PROTOCOL_ICMP = 1;
const ECHO_REPLY = 0;
const ECHO_REQUEST = 8;
const HEADER_LEN = 8;
const MAX_PENDING = 65536;

interface Pending {
  readonly dst: number;
  readonly sent: Instant;
  readonly done: (r: PingReply | string) => void;
  readonly timer: Timer;
}

/** The ICMPv4 plugin. */
export const icmpPlugin: ProtocolPlugin = {
  manifest: {
    name: "icmp",
    version: "1.0.0",
    api: "^1.0.0",
    description: "ICMP echo (ping) for IPv4",
    layer: "network",
    dependencies: ["ipv4"],
    binds: [{ table: "ip.protocol", key: IP_PROTOCOL_ICMP }],
    provides: ["icmp.echo"],
    requires: ["ipv4.send"],
    counters: [
      "rx.truncated",
      "rx.bad_checksum",
      "rx.echo_requests",
      "rx.echo_replies",
      "rx.unmatched_reply",
      "rx.broadcast_echo_ignored",
      "rx.unhandled_type",
      "tx.echo_replies",
      "tx.echo_requests",
      "tx.send_failed",
    ],
    options: {
      echoIgnoreBroadcasts: {
        default: true,
        description: "ignore echo requests to broadcast/multicast (Linux's default)",
      },
    },
  },
  setup(ctx: PluginContext): ProtocolHandlers {
    let ipv4!: Ipv4Service;
    const ignoreBroadcast = ctx.options.echoIgnoreBroadcasts as boolean;
    const c = {
      requestsIn: ctx.counter("rx.echo_requests"),
      repliesIn: ctx.counter("rx.echo_replies"),
      unmatched: ctx.counter("rx.unmatched_reply"),
      repliesOut: ctx.counter("tx.echo_replies"),
      requestsOut: ctx.counter("tx.echo_requests"),
      sendFailed: ctx.counter("tx.send_failed"),
    };
    const pending = new Map<number, Pending>(); // (identifier << 16 | sequence) -> pending
    const defaultIdentifier = ctx.rng.nextU32() & 0xffff;
    let nextSequence = 0;
    let lastSent: Instant = 0;

    function receive(pkt: PacketBuffer, _rx: RxContext): Verdict {
      const s = pkt.start;
      const len = pkt.end - s;
      if (len < HEADER_LEN) return "truncated";
      const b = pkt.buf;
      if (sumBytes(b.subarray(s, pkt.end)) !== 0xffff) return "bad_checksum";
      const type = b[s]!;
      if (type === ECHO_REQUEST) {
        c.requestsIn.value++;
        if (
          (pkt.flags & (PacketFlags.NET_BROADCAST | PacketFlags.NET_MULTICAST)) !== 0 &&
          ignoreBroadcast
        ) {
          return "broadcast_echo_ignored";
        }
        // RFC 1122 3.2.2.6: the reply carries the request's data unchanged.
        const reply = ctx.pool.alloc(len);
        const r = reply.start;
        reply.buf.set(b.subarray(s, pkt.end), r);
        reply.buf[r] = ECHO_REPLY;
        reply.buf[r + 1] = 0;
        reply.dv.setUint16(r + 2, 0);
        reply.dv.setUint16(r + 2, finishChecksum(sumBytes(reply.data)));
        const unicast = (pkt.flags & (PacketFlags.NET_BROADCAST | PacketFlags.NET_MULTICAST)) === 0;
        const err = ipv4.send(reply, unicast ? pkt.dst4 : 0, pkt.src4, IP_PROTOCOL_ICMP, 0, 0);
        if (err === undefined) c.repliesOut.value++;
        else c.sendFailed.value++;
        return CONSUMED;
      }
      if (type === ECHO_REPLY) {
        c.repliesIn.value++;
        const key = pkt.dv.getUint32(s + 4);
        const p = pending.get(key);
        if (p === undefined || p.dst !== pkt.src4) {
          c.unmatched.value++;
          return CONSUMED;
        }
        pending.delete(key);
        p.timer.cancel();
        p.done({
          sequence: key & 0xffff,
          rtt: ctx.now() - p.sent,
          from: formatIpv4Address(pkt.src4),
          ttl: pkt.ttl,
          bytes: len - HEADER_LEN,
        });
        return CONSUMED;
      }
      return "unhandled_type";
    }

    const echo: IcmpEchoService = {
      echo(dst: number, options: PingOptions, done: (r: PingReply | string) => void): void {
        const size = options.size ?? 56;
        if (!(size >= 0 && size <= 65507)) {
          throw new RangeError(`Cannot ping with ${size} bytes of data`);
        }
        const identifier = (options.identifier ?? defaultIdentifier) & 0xffff;
        const sequence = (options.sequence ?? (nextSequence = (nextSequence + 1) & 0xffff)) &
          0xffff;
        const key = ((identifier << 16) | sequence) >>> 0;
        if (pending.has(key)) pending.get(key)!.timer.cancel();
        if (pending.size >= MAX_PENDING) {
          done("too many pings in flight");
          return;
        }
        const pkt = ctx.pool.alloc(HEADER_LEN + size);
        const s = pkt.start;
        const b = pkt.buf;
        b[s] = ECHO_REQUEST;
        b[s + 1] = 0;
        pkt.dv.setUint16(s + 2, 0);
        pkt.dv.setUint16(s + 4, identifier);
        pkt.dv.setUint16(s + 6, sequence);
        // Payload like ping(8): a recognisable byte ramp.
        for (let i = 0; i < size; i++) b[s + HEADER_LEN + i] = (i + 8) & 0xff;
        pkt.dv.setUint16(s + 2, finishChecksum(sumBytes(pkt.data)));
        lastSent = ctx.now();
        const timer = ctx.timer(() => {
          if (pending.get(key)?.timer === timer) {
            pending.delete(key);
            done(
              `no reply from ${formatIpv4Address(dst)} within ${
                (options.timeout ?? 1_000_000) / 1000
              } ms`,
            );
          }
        });
        pending.set(key, { dst, sent: lastSent, done, timer });
        timer.arm(lastSent + (options.timeout ?? 1_000_000));
        const err = ipv4.send(
          pkt,
          0,
          dst,
          IP_PROTOCOL_ICMP,
          options.ttl ?? 0,
          options.dontFragment ? Ipv4SendFlags.DONT_FRAGMENT : 0,
        );
        if (err !== undefined) {
          c.sendFailed.value++;
          pending.delete(key);
          timer.cancel();
          done(`cannot send to ${formatIpv4Address(dst)}: ${err.replaceAll("_", " ")}`);
          return;
        }
        c.requestsOut.value++;
      },
      lastSent: () => lastSent,
    };

    return {
      receive,
      services: { "icmp.echo": echo },
      ready() {
        ipv4 = ctx.service<Ipv4Service>("ipv4.send");
      },
      teardown() {
        for (const p of pending.values()) p.timer.cancel();
        pending.clear();
      },
    };
  },
};
