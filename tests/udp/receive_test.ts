import assert from "node:assert/strict";
import type { ArpService, DatagramConn, UdpService } from "../../mod.ts";
import {
  checkEthernet,
  checkIcmp,
  checkIpv4,
  framesMatching,
  type Host,
  ip,
  mac,
  makeHost,
} from "../_harness.ts";
import { udpFrame } from "./_udp.ts";

const PEER_MAC = "02:00:00:00:00:fe";
const HOST_MAC = "02:00:00:00:00:01";
const enc = new TextEncoder();
const dec = new TextDecoder();

/** A frame from the test's peer 10.0.0.9:4000 to the host 10.0.0.1:`port`. */
function toHost(
  data: Uint8Array,
  port = 9,
  overrides: { length?: number; checksum?: number; ipPad?: number } = {},
): Uint8Array {
  return udpFrame({
    srcMac: PEER_MAC,
    dstMac: HOST_MAC,
    src: "10.0.0.9",
    dst: "10.0.0.1",
    srcPort: 4000,
    dstPort: port,
    data,
    ...overrides,
  });
}

function queued(h: Host): number {
  return h.stack.service<UdpService>("udp.sockets")!.list().reduce((n, s) => n + s.queued, 0);
}

/** Receives a datagram already queued (fails instead of waiting). */
async function take(h: Host, conn: DatagramConn): Promise<string> {
  assert.ok(queued(h) > 0, "a datagram is queued");
  const [data] = await conn.receive();
  return dec.decode(data);
}

function withHost(
  body: (h: Host, conn: DatagramConn) => void | Promise<void>,
  options: { receiveQueueLimit?: number; receiveQueueBytes?: number } = {},
): () => Promise<void> {
  return async () => {
    const h = makeHost();
    // The peer does not answer ARP: replies (ICMP errors) need its MAC.
    h.stack.service<ArpService>("arp.resolve")!.addStatic(
      h.iface.index,
      ip("10.0.0.9"),
      mac(PEER_MAC),
    );
    try {
      const conn = h.stack.listenDatagram({ transport: "udp", port: 9, ...options });
      await body(h, conn);
      conn[Symbol.dispose](); // quiet when the body closed it
    } catch (e) {
      h.close();
      throw e;
    }
    h.finish();
  };
}

Deno.test(
  "udp datagram is received with the peer's address",
  withHost(async (h, conn) => {
    h.inject(toHost(enc.encode("hello")));
    const [data, from] = await conn.receive();
    assert.equal(dec.decode(data), "hello");
    assert.deepEqual(from, { transport: "udp", hostname: "10.0.0.9", port: 4000 });
    assert.equal(h.counter("udp.rx.datagrams"), 1);
  }),
);

Deno.test(
  "udp datagram with a bad checksum is dropped and counted",
  withHost((h) => {
    const frame = toHost(enc.encode("hello"));
    frame[frame.length - 1] = frame[frame.length - 1]! ^ 0x40; // payload changed after the checksum
    h.inject(frame);
    assert.equal(h.counter("udp.rx.bad_checksum"), 1);
    assert.equal(queued(h), 0);
  }),
);

Deno.test(
  "udp zero checksum (none computed) is accepted over IPv4",
  withHost(async (h, conn) => {
    h.inject(toHost(enc.encode("no sum"), 9, { checksum: 0 }));
    assert.equal(await take(h, conn), "no sum");
    assert.equal(h.counter("udp.rx.no_checksum"), 1);
  }),
);

Deno.test(
  "udp checksum 0xffff (a computed zero) verifies",
  withHost(async (h, conn) => {
    // With a zero payload word the checksum is ~S; a payload word of ~S
    // makes the sum 0xffff, so the checksum computes to 0 and goes as 0xffff.
    const probe = toHost(new Uint8Array(2), 9);
    const c = new DataView(probe.buffer).getUint16(probe.length - 4);
    const f = toHost(new Uint8Array([c >> 8, c & 0xff]), 9);
    assert.equal(new DataView(f.buffer).getUint16(f.length - 4), 0xffff);
    h.inject(f);
    assert.equal(h.counter("udp.rx.bad_checksum"), 0);
    assert.equal((await take(h, conn)).length, 2);
  }),
);

Deno.test(
  "udp length field below 8 is bad_length",
  withHost((h) => {
    h.inject(toHost(enc.encode("abc"), 9, { length: 7 }));
    assert.equal(h.counter("udp.rx.bad_length"), 1);
  }),
);

Deno.test(
  "udp length field past the IP payload is bad_length",
  withHost((h) => {
    h.inject(toHost(enc.encode("abc"), 9, { length: 12 }));
    assert.equal(h.counter("udp.rx.bad_length"), 1);
    assert.equal(queued(h), 0);
  }),
);

Deno.test(
  "udp header cut short is truncated",
  withHost((h) => {
    const frame = toHost(new Uint8Array(0));
    // Keep 5 of the 8 UDP header bytes: fix the IP total length and checksum.
    const ip = frame.subarray(14, 14 + 25);
    const dv = new DataView(ip.buffer, ip.byteOffset, 20);
    dv.setUint16(2, 25);
    dv.setUint16(10, 0);
    let s = 0;
    for (let i = 0; i < 20; i += 2) s += dv.getUint16(i);
    while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
    dv.setUint16(10, ~s & 0xffff);
    h.inject(frame.subarray(0, 14 + 25));
    assert.equal(h.counter("udp.rx.truncated"), 1);
  }),
);

Deno.test(
  "udp bytes after the UDP length inside the IP payload are not delivered",
  withHost(async (h, conn) => {
    h.inject(toHost(enc.encode("data"), 9, { ipPad: 6 }));
    assert.equal(await take(h, conn), "data");
  }),
);

Deno.test(
  "udp receive queue bounded by count: overflow dropped and counted",
  withHost(async (h, conn) => {
    for (let i = 0; i < 6; i++) h.inject(toHost(enc.encode(`d${i}`)));
    assert.equal(queued(h), 4);
    assert.equal(conn.dropped, 2);
    assert.equal(h.counter("udp.rx.rcvbuf_full"), 2);
    const got = [];
    for (let i = 0; i < 4; i++) got.push(await take(h, conn));
    assert.deepEqual(got, ["d0", "d1", "d2", "d3"]);
    h.inject(toHost(enc.encode("d6")));
    assert.equal(await take(h, conn), "d6");
  }, { receiveQueueLimit: 4 }),
);

Deno.test(
  "udp receive queue bounded by buffer bytes: an empty queue still takes one datagram",
  withHost(async (h, conn) => {
    // Each datagram holds a 2 KiB pooled buffer, whatever its length.
    for (let i = 0; i < 3; i++) h.inject(toHost(new Uint8Array(400)));
    assert.equal(queued(h), 2); // 4096 bytes; 6144 would exceed 5000
    assert.equal(conn.dropped, 1);
    await take(h, conn);
    await take(h, conn);
    h.inject(toHost(new Uint8Array(6000))); // a 64.5 KiB buffer, but the queue is empty
    assert.equal((await conn.receive())[0].length, 6000);
  }, { receiveQueueBytes: 5000 }),
);

Deno.test(
  "udp datagram to a closed port is counted as no_socket",
  withHost((h) => {
    const out = h.inject(toHost(enc.encode("anyone?"), 10), 1000);
    assert.equal(h.counter("udp.rx.no_socket"), 1);
    const icmp = framesMatching(out, checkEthernet({}, checkIpv4({ protocol: 1 })));
    if (h.stack.service("icmp.error") === undefined) {
      assert.equal(icmp.length, 0, "no ICMP without the icmp.error service");
    } else {
      assert.equal(h.counter("udp.tx.port_unreachable"), 1);
      assert.ok(
        framesMatching(
          out,
          checkEthernet(
            {},
            checkIpv4({ src: "10.0.0.1", dst: "10.0.0.9" }, checkIcmp({ type: 3, code: 3 })),
          ),
        ).length === 1,
      );
    }
  }),
);

Deno.test(
  "udp queued datagrams go back to the pool when the socket closes",
  withHost((h, conn) => {
    const before = h.stack.pool.outstanding;
    for (let i = 0; i < 3; i++) h.inject(toHost(new Uint8Array(100)));
    assert.equal(h.stack.pool.outstanding, before + 3);
    conn.close();
    assert.equal(h.stack.pool.outstanding, before);
  }),
);
