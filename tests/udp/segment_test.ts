/**
 * `segmentSize` (Linux's UDP_SEGMENT): one send becomes ⌈len/segmentSize⌉
 * datagrams on the wire. Over links without USO the stack cuts the
 * super-datagram right before the link; over a link with USO the driver
 * gets it whole (one packet, `gsoSize`, partial checksum) and a capture tap
 * records the datagrams the wire will carry. Also local delivery, IPv6,
 * the validation errors, and NAT of a super-datagram.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createStack, type Stack } from "../../mod.ts";
import type { LinkDriver } from "../../stack/driver.ts";
import { PacketFlags } from "../../stack/packet_flags.ts";
import { pseudoHeaderSumV4 } from "../../stack/wire/checksum.ts";
import { Capture, makeLink, withEnv } from "../_harness.ts";
import {
  cut,
  deviceSegments,
  pattern,
  tsharkUdpChecksums,
  udpChecksumOk,
  UsoDriver,
} from "./_uso.ts";
import { assertTsharkClean } from "../_tshark.ts";
import { gated } from "../_require.ts";

Deno.test(
  gated(["tshark"], {
    name:
      "udp segmentSize over Ethernet without USO: the peer receives each datagram, the capture is tshark-clean",
    fn: async () => {
      await withEnv(makeLink({ seed: 21, capture: true }), async (env) => {
        const rx = env.b.listenDatagram({ transport: "udp", port: 7000 });
        const tx = env.a.listenDatagram({ transport: "udp", port: 7001, segmentSize: 1000 });
        const data = pattern(4500);
        const got: Uint8Array[] = [];
        await env.run(async () => {
          assert.equal(await tx.send(data, { hostname: "10.0.0.2", port: 7000 }), 4500);
          for (let i = 0; i < 5; i++) got.push((await rx.receive())[0]);
        });
        assert.deepEqual(got, cut(data, 1000));
        assert.equal(env.a.counters.get("udp.tx.datagrams").value, 5);
        assert.equal(env.a.counters.get("dispatcher.tx.udp_segmented").value, 5);
        tx.close();
        rx.close();
        const pcap = env.capture!.bytes();
        await assertTsharkClean(pcap);
        assert.deepEqual(await tsharkUdpChecksums(pcap), [
          "1008\t1",
          "1008\t1",
          "1008\t1",
          "1008\t1",
          "508\t1",
        ]);
      });
    },
  }),
);

Deno.test("udp segmentSize over IPv6: the peer receives each datagram with its bytes", async () => {
  const env = makeLink({
    seed: 22,
    linkType: 101,
    addresses: [["fd00::1/64"], ["fd00::2/64"]],
  });
  await withEnv(env, async () => {
    const rx = env.b.listenDatagram({ transport: "udp", hostname: "::", port: 7000 });
    const tx = env.a.listenDatagram({
      transport: "udp",
      hostname: "::",
      port: 7001,
      segmentSize: 1200,
    });
    const data = pattern(3 * 1200 + 77);
    const got: Uint8Array[] = [];
    await env.run(async () => {
      await tx.send(data, { hostname: "fd00::2", port: 7000 });
      for (let i = 0; i < 4; i++) got.push((await rx.receive())[0]);
    });
    assert.deepEqual(got, cut(data, 1200));
    tx.close();
    rx.close();
  });
});

Deno.test("udp segmentSize to one of the host's own addresses: the local socket receives each datagram", async () => {
  await withEnv(makeLink({ seed: 23 }), async (env) => {
    const rx = env.a.listenDatagram({ transport: "udp", port: 7000 });
    const tx = env.a.listenDatagram({ transport: "udp", port: 7001, segmentSize: 100 });
    const data = pattern(250);
    const got: Uint8Array[] = [];
    await env.run(async () => {
      await tx.send(data, { hostname: "10.0.0.1", port: 7000 });
      for (let i = 0; i < 3; i++) got.push((await rx.receive())[0]);
    });
    assert.deepEqual(got, cut(data, 100));
    tx.close();
    rx.close();
  });
});

Deno.test("udp segmentSize: a send no larger than segmentSize is one ordinary datagram", async () => {
  await withEnv(makeLink({ seed: 24 }), async (env) => {
    const rx = env.b.listenDatagram({ transport: "udp", port: 7000 });
    const tx = env.a.listenDatagram({ transport: "udp", port: 7001, segmentSize: 1000 });
    await env.run(async () => {
      await tx.send(pattern(1000), { hostname: "10.0.0.2", port: 7000 });
      assert.deepEqual((await rx.receive())[0], pattern(1000));
    });
    assert.equal(env.a.counters.get("dispatcher.tx.udp_segmented").value, 0);
    tx.close();
    rx.close();
  });
});

Deno.test("listenDatagram() checks segmentSize like the other integer options", async () => {
  await withEnv(makeLink({ seed: 25 }), (env) => {
    // Out of range: RangeError; not an integer: TypeError (as TTL and the limits).
    for (const [bad, kind] of [[-1, RangeError], [65536, RangeError], [1.5, TypeError]] as const) {
      assert.throws(
        () => env.a.listenDatagram({ transport: "udp", port: 7000, segmentSize: bad }),
        kind,
        `segmentSize ${bad} is not`,
      );
    }
    // The same error class and wording as a TTL of the wrong type.
    const message = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return `${(e as Error).constructor.name}`;
      }
      return "no error";
    };
    assert.equal(
      message(() =>
        env.a.listenDatagram({ transport: "udp", segmentSize: "9" as unknown as number })
      ),
      message(() => env.a.listenDatagram({ transport: "udp", ttl: "9" as unknown as number })),
    );
    // Nothing was bound by the refused calls.
    env.a.listenDatagram({ transport: "udp", port: 7000, segmentSize: 0 }).close();
  });
});

Deno.test("udp segmentSize send: a datagram over the path MTU or more than 128 of them is a RangeError", async () => {
  await withEnv(makeLink({ seed: 26 }), async (env) => {
    const to = { hostname: "10.0.0.2", port: 7000 };
    const big = env.a.listenDatagram({ transport: "udp", segmentSize: 1473 }); // 20 + 8 + 1473 > 1500
    await assert.rejects(big.send(pattern(3000), to), RangeError, "path MTU");
    // Linux refuses one datagram over the MTU too, when segmenting (EMSGSIZE).
    await assert.rejects(big.send(pattern(1473), to), RangeError);
    big.close();
    const fits = env.a.listenDatagram({ transport: "udp", segmentSize: 1472 });
    await env.run(() => fits.send(pattern(3000), to));
    fits.close();
    const small = env.a.listenDatagram({ transport: "udp", segmentSize: 10 });
    await assert.rejects(small.send(pattern(1290), to), RangeError, "128");
    assert.equal(env.a.counters.get("udp.tx.too_many_segments").value, 1);
    await env.run(() => small.send(pattern(1280), to)); // 128 exactly
    small.close();
  });
});

/** A raw-IP driver without USO that records the length of each packet it is given. */
function lengthRecorder(sent: number[]): LinkDriver {
  return {
    linkType: 101,
    mtu: 1500,
    attach() {},
    transmit(p) {
      sent.push(p.length);
      p.release();
    },
    close() {},
  };
}

Deno.test("udp segmentSize to multicast or broadcast: a datagram over the interface MTU is a RangeError, never an oversized packet", async () => {
  const sent: number[] = [];
  const stack = createStack({ seed: 28 });
  stack.addInterface({
    name: "eth0",
    driver: lengthRecorder(sent),
    addresses: ["10.0.0.1/24", "fd00::1/64"],
  });
  // No route covers these: the path MTU UDP asks for is unknown, the IP layer knows the link's.
  const targets = [["0.0.0.0", "239.1.1.1", 20], ["0.0.0.0", "255.255.255.255", 20], [
    "::",
    "ff0e::1",
    40,
  ]] as const;
  for (const [any, group, ipHeader] of targets) {
    const tooBig = 1500 - ipHeader - 8 + 1;
    const big = stack.listenDatagram({
      transport: "udp",
      hostname: any,
      segmentSize: tooBig,
      broadcast: true,
    });
    await assert.rejects(
      big.send(pattern(2 * tooBig), { hostname: group, port: 7000 }),
      RangeError,
    );
    big.close();
    assert.deepEqual(sent, [], `nothing sent to ${group}`);
    const fits = stack.listenDatagram({
      transport: "udp",
      hostname: any,
      segmentSize: tooBig - 1,
      broadcast: true,
    });
    await fits.send(pattern(2 * tooBig), { hostname: group, port: 7000 });
    fits.close();
    assert.deepEqual(sent, [1500, 1500, ipHeader + 8 + 2], `to ${group}`);
    sent.length = 0;
  }
  stack.close();
});

Deno.test("udp segmentSize over IPv4: every datagram of a send and the next send have identifications of their own", async () => {
  const ids: number[] = [];
  const stack = createStack({ seed: 29 });
  stack.addInterface({
    driver: {
      linkType: 101,
      mtu: 1500,
      attach() {},
      transmit(p) {
        ids.push(new DataView(p.buf.buffer, p.buf.byteOffset).getUint16(p.start + 4));
        p.release();
      },
      close() {},
    },
    addresses: ["10.0.0.1/24"],
  });
  const to = { hostname: "10.0.0.2", port: 7000 };
  const tx = stack.listenDatagram({ transport: "udp", segmentSize: 1000 });
  await tx.send(pattern(3000), to);
  await tx.send(pattern(10), to);
  await tx.send(pattern(2500), to);
  await tx.send(pattern(10), to);
  tx.close();
  stack.close();
  assert.equal(ids.length, 8);
  // Their DF bit is clear: a router may fragment them, so a repeated
  // identification could join fragments of two datagrams (RFC 6864 §4.1).
  assert.equal(new Set(ids).size, 8, `identifications ${ids}`);
});

function stackOn(driver: LinkDriver): Stack {
  const stack = createStack({ seed: 27 });
  stack.addInterface({ name: "eth0", driver, addresses: ["10.0.0.1/24"] });
  return stack;
}

Deno.test(
  gated(["tshark"], {
    name:
      "udp segmentSize over a link with USO: one super-datagram to the driver, its datagrams in the capture",
    fn: async () => {
      const inner = new UsoDriver();
      const capture = new Capture({ linkType: 101 });
      const stack = stackOn(capture.tap(inner));
      const tx = stack.listenDatagram({ transport: "udp", port: 7001, segmentSize: 1000 });
      const data = pattern(2500);
      await tx.send(data, { hostname: "10.0.0.2", port: 7000 });
      assert.equal(inner.sent.length, 1);
      const sent = inner.sent[0]!;
      assert.equal(sent.gsoSize, 1000);
      assert.ok((sent.flags & PacketFlags.CHECKSUM_PARTIAL) !== 0);
      assert.equal(sent.bytes.length, 20 + 8 + 2500);
      const dv = new DataView(sent.bytes.buffer);
      assert.equal(dv.getUint16(24), 8 + 2500); // UDP length: the whole super-datagram
      // The field holds the pseudo-header sum (not complemented) for the device to finish.
      const pseudo = pseudoHeaderSumV4(0x0a000001, 0x0a000002, 17, 2508);
      assert.equal(dv.getUint16(26), pseudo);
      assert.equal(stack.counters.get("dispatcher.tx.udp_segmented").value, 0);
      const wire = deviceSegments(sent.bytes, 1000);
      assert.deepEqual(wire.map((d) => d.subarray(28)), cut(data, 1000));
      assert.ok(wire.every(udpChecksumOk));
      tx.close();
      stack.close();
      const pcap = capture.bytes();
      await assertTsharkClean(pcap);
      assert.deepEqual(await tsharkUdpChecksums(pcap), ["1008\t1", "1008\t1", "508\t1"]);
    },
  }),
);
