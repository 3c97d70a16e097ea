import assert from "node:assert/strict";
import {
  type ArpService,
  createStack,
  type DatagramConn,
  DEFAULT_PLUGINS,
  icmpPlugin,
  type NetInterface,
  type PacketBuffer,
  type Stack,
  VirtualNetwork,
} from "../../mod.ts";
import {
  checkEthernet,
  checkIcmp,
  checkIpv4,
  ethernetFrame,
  framesMatching,
  ip,
  ipv4Packet,
  mac,
  makeLink,
  withEnv,
} from "../_harness.ts";
import { checkUdp, icmpError, icmpErrorStandIn, udpFrame } from "./_udp.ts";
import { kernelOf } from "../../stack/stack.ts";

const HOST_MAC = "02:00:00:00:00:01";
const PEER_MAC = "02:00:00:00:00:fe";
const enc = new TextEncoder();
const dec = new TextDecoder();

/** One stack (10.0.0.1) whose peer 10.0.0.9 is the test. */
class ErrHost {
  readonly net = new VirtualNetwork({ seed: 1 });
  readonly stack: Stack;
  readonly iface: NetInterface;
  readonly sent: Uint8Array[] = [];

  constructor(variant: "icmp" | "stand-in") {
    const link = this.net.link({ macA: mac(HOST_MAC), macB: mac(PEER_MAC) });
    link.b.attach({
      pool: this.net.pool,
      ifindex: 0,
      now: () => this.net.now(),
      receive: (pkt: PacketBuffer) => {
        this.sent.push(pkt.data.slice()); // copy: kept after release
        pkt.release();
      },
    });
    const plugins = variant === "icmp"
      ? DEFAULT_PLUGINS
      : DEFAULT_PLUGINS.map((p) => p === icmpPlugin ? icmpErrorStandIn : p);
    this.stack = this.net.addNode(createStack({ clock: this.net.clock, seed: 1, plugins }));
    this.iface = this.stack.addInterface({ driver: link.a, addresses: ["10.0.0.1/24"] });
    this.stack.service<ArpService>("arp.resolve")!.addStatic(
      this.iface.index,
      ip("10.0.0.9"),
      mac(PEER_MAC),
    );
    this.net.runFor(0);
    this.sent.length = 0;
  }

  /** Sends `text` on `conn` and returns the IPv4 packet that left. */
  async sendAndCapture(conn: DatagramConn, text: string): Promise<Uint8Array> {
    this.sent.length = 0;
    await conn.send(enc.encode(text));
    this.net.runFor(0);
    const frames = framesMatching(
      this.sent,
      checkEthernet({ etherType: 0x0800 }, checkIpv4({ protocol: 17 })),
    );
    assert.equal(frames.length, 1);
    return frames[0]!.subarray(14);
  }

  /** Injects an ICMP error from `from` quoting `ipPacket`'s header and 8 bytes. */
  injectError(from: string, type: number, code: number, rest: number, ipPacket: Uint8Array): void {
    const quote = ipPacket.subarray(0, 28);
    const frame = ethernetFrame(
      { dst: HOST_MAC, src: PEER_MAC, etherType: 0x0800 },
      ipv4Packet({ src: from, dst: "10.0.0.1", protocol: 1 }, icmpError(type, code, rest, quote)),
    );
    kernelOf(this.stack).inject(this.iface.index, frame);
    this.net.runFor(0);
  }

  /** Injects a datagram from the peer 10.0.0.9:`srcPort` to 10.0.0.1:`dstPort`. */
  injectDatagram(srcPort: number, dstPort: number, text: string): void {
    kernelOf(this.stack).inject(
      this.iface.index,
      udpFrame({
        srcMac: PEER_MAC,
        dstMac: HOST_MAC,
        src: "10.0.0.9",
        dst: "10.0.0.1",
        srcPort,
        dstPort,
        data: enc.encode(text),
      }),
    );
  }

  counter(name: string): number {
    return this.stack.counters.get(name).value;
  }

  finish(): void {
    this.stack.close();
    this.net.close();
    assert.equal(this.stack.pool.outstanding, 0, "stack pool leak");
    assert.equal(this.net.pool.outstanding, 0, "network pool leak");
  }
}

function errTest(
  name: string,
  body: (h: ErrHost, conn: DatagramConn) => Promise<void>,
): void {
  for (const variant of ["stand-in", "icmp"] as const) {
    Deno.test({
      name: `${name} (${variant === "icmp" ? "icmp plugin" : "ip.error stand-in"})`,
      async fn() {
        const h = new ErrHost(variant);
        try {
          const conn = h.stack.listenDatagram({ transport: "udp", port: 5000 });
          conn.connect({ hostname: "10.0.0.9", port: 53 });
          await body(h, conn);
          conn[Symbol.dispose](); // quiet when the body closed it
        } catch (e) {
          h.stack.close();
          h.net.close();
          throw e;
        }
        h.finish();
      },
    });
  }
}

errTest(
  "udp connected socket: ICMP port unreachable fails the next receive() once",
  async (h, conn) => {
    const sent = await h.sendAndCapture(conn, "query");
    h.injectError("10.0.0.9", 3, 3, 0, sent);
    assert.equal(h.counter("udp.rx.errors_reported"), 1);
    h.injectDatagram(53, 5000, "late answer");
    await assert.rejects(conn.receive(), Deno.errors.ConnectionRefused);
    // Reported once; the queued datagram is still there.
    const [data] = await conn.receive();
    assert.equal(dec.decode(data), "late answer");
  },
);

errTest(
  "udp connected socket: ICMP port unreachable rejects a pending receive() at once",
  async (h, conn) => {
    const sent = await h.sendAndCapture(conn, "query");
    const pending = conn.receive();
    h.injectError("10.0.0.9", 3, 3, 0, sent);
    await assert.rejects(pending, Deno.errors.ConnectionRefused);
  },
);

errTest("udp connected socket: ICMP port unreachable fails the next send()", async (h, conn) => {
  const sent = await h.sendAndCapture(conn, "query");
  h.injectError("10.0.0.9", 3, 3, 0, sent);
  await assert.rejects(conn.send(enc.encode("again")), Deno.errors.ConnectionRefused);
  assert.equal(await conn.send(enc.encode("and again")), 9);
});

errTest(
  "udp connected socket: ICMP protocol unreachable is ConnectionRefused too",
  async (h, conn) => {
    const sent = await h.sendAndCapture(conn, "query");
    h.injectError("10.0.0.9", 3, 2, 0, sent);
    await assert.rejects(conn.receive(), Deno.errors.ConnectionRefused);
  },
);

errTest(
  "udp connected socket: ICMP net and host unreachable are NetworkUnreachable",
  async (h, conn) => {
    const sent = await h.sendAndCapture(conn, "query");
    h.injectError("10.0.0.254", 3, 0, 0, sent);
    await assert.rejects(conn.receive(), Deno.errors.NetworkUnreachable, "network unreachable");
    h.injectError("10.0.0.254", 3, 1, 0, sent);
    await assert.rejects(
      conn.send(enc.encode("x")),
      Deno.errors.NetworkUnreachable,
      "host unreachable",
    );
  },
);

errTest(
  "udp connected socket: fragmentation needed is not an error for the socket",
  async (h, conn) => {
    const sent = await h.sendAndCapture(conn, "query");
    h.injectError("10.0.0.254", 3, 4, 1400, sent);
    assert.equal(h.counter("udp.rx.errors_reported"), 0);
    assert.equal(await conn.send(enc.encode("fine")), 4);
  },
);

errTest("udp unconnected socket ignores ICMP errors (no IP_RECVERR)", async (h, conn) => {
  const other = h.stack.listenDatagram({ transport: "udp", port: 5001 });
  h.sent.length = 0;
  await other.send(enc.encode("query"), { hostname: "10.0.0.9", port: 53 });
  h.net.runFor(0);
  const sent = h.sent[0]!.subarray(14);
  h.injectError("10.0.0.9", 3, 3, 0, sent);
  assert.equal(h.counter("udp.rx.error_ignored"), 1);
  h.injectDatagram(53, 5001, "answer");
  const [data] = await other.receive();
  assert.equal(dec.decode(data), "answer");
  other.close();
  void conn;
});

errTest("udp ICMP error quoting a port with no socket is counted", async (h, conn) => {
  const sent = await h.sendAndCapture(conn, "query");
  conn.close();
  h.injectError("10.0.0.9", 3, 3, 0, sent);
  assert.equal(h.counter("udp.rx.error_no_socket"), 1);
});

// ---- end to end, with the real ICMP plugin sending and dispatching ----------

Deno.test({
  name: "udp closed port → ICMP port unreachable on the wire (end to end)",
  async fn() {
    await withEnv(makeLink({ seed: 2, capture: true }), async (env) => {
      const client = env.a.listenDatagram({ transport: "udp", port: 40000 });
      await env.run(() => client.send(enc.encode("knock"), { hostname: "10.0.0.2", port: 9999 }));
      env.runFor(100_000);
      assert.equal(env.b.counters.get("udp.rx.no_socket").value, 1);
      const errors = framesMatching(
        env.capture!.frames(),
        checkEthernet(
          {},
          checkIpv4(
            { src: "10.0.0.2", dst: "10.0.0.1", protocol: 1 },
            checkIcmp(
              { type: 3, code: 3 },
              checkIpv4({ src: "10.0.0.1", dst: "10.0.0.2", protocol: 17 }),
            ),
          ),
        ),
      );
      assert.equal(errors.length, 1);
      // The quote holds our UDP header: 40000 > 9999.
      const quotedUdp = errors[0]!.subarray(14 + 20 + 8 + 20, 14 + 20 + 8 + 28);
      checkUdp({ srcPort: 40000, dstPort: 9999, length: 13 })(
        Uint8Array.from([...quotedUdp, ...enc.encode("knock")]),
      );
      client.close();
    });
  },
});

Deno.test({
  name: "udp connected client gets ConnectionRefused from a closed port (end to end)",
  async fn() {
    await withEnv(makeLink({ seed: 2 }), async (env) => {
      const client = env.a.listenDatagram({ transport: "udp" });
      client.connect({ hostname: "10.0.0.2", port: 9999 });
      const outcome = await env.run(async () => {
        await client.send(enc.encode("knock"));
        try {
          await client.receive();
          return "received";
        } catch (e) {
          return e;
        }
      });
      assert.ok(outcome instanceof Deno.errors.ConnectionRefused, String(outcome));
      assert.equal(env.a.counters.get("udp.rx.errors_reported").value, 1);
      // The error was reported once: the socket works again.
      assert.equal(await client.send(enc.encode("again")), 5);
      client.close();
    });
  },
});
