import assert from "node:assert/strict";
import type { Stack } from "../../mod.ts";
import {
  checkEthernet,
  checkIpv4,
  framesMatching,
  type Lan,
  makeLan,
  withEnv,
} from "../_harness.ts";
import { checkUdp } from "./_udp.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

function lan(): Lan {
  return makeLan({ hosts: 3, seed: 11, capture: true });
}

Deno.test("udp broadcast off: sending to 255.255.255.255 or 10.0.0.255 rejects with PermissionDenied", async () => {
  await withEnv(lan(), async (env) => {
    const a = env.hosts[0]!;
    const conn = a.listenDatagram({ transport: "udp" });
    for (const hostname of ["255.255.255.255", "10.0.0.255"]) {
      await assert.rejects(
        conn.send(enc.encode("x"), { hostname, port: 9 }),
        Deno.errors.PermissionDenied,
        "broadcast is not enabled",
      );
    }
    assert.equal(a.counters.get("udp.tx.broadcast_not_enabled").value, 2);
    env.runFor(1000);
    assert.equal(framesMatching(env.capture!.frames(), checkIpv4({ protocol: 17 })).length, 0);
    conn.close();
  });
});

Deno.test("udp connect to a broadcast address without broadcast rejects with PermissionDenied", async () => {
  await withEnv(lan(), (env) => {
    const conn = env.hosts[0]!.listenDatagram({ transport: "udp" });
    assert.throws(
      () => conn.connect({ hostname: "10.0.0.255", port: 9 }),
      Deno.errors.PermissionDenied,
    );
    conn.setBroadcast(true);
    conn.connect({ hostname: "10.0.0.255", port: 9 });
    conn.close();
  });
});

for (const hostname of ["255.255.255.255", "10.0.0.255"]) {
  Deno.test(`udp broadcast on: a datagram to ${hostname} reaches every other host`, async () => {
    await withEnv(lan(), async (env) => {
      const [a, b, c] = env.hosts as [Stack, Stack, Stack];
      const sender = a.listenDatagram({ transport: "udp", port: 6000, broadcast: true });
      const rb = b.listenDatagram({ transport: "udp", port: 67 });
      const rc = c.listenDatagram({ transport: "udp", port: 67 });
      const got = await env.run(async () => {
        await sender.send(enc.encode("anyone?"), { hostname, port: 67 });
        return await Promise.all([rb.receive(), rc.receive()]);
      });
      for (const [data, from] of got) {
        assert.equal(dec.decode(data), "anyone?");
        assert.deepEqual(from, { transport: "udp", hostname: "10.0.0.1", port: 6000 });
      }
      // One frame on the wire, to the Ethernet broadcast address.
      const frames = framesMatching(
        env.capture!.frames(),
        checkEthernet(
          { dst: "ff:ff:ff:ff:ff:ff", etherType: 0x0800 },
          checkIpv4(
            { src: "10.0.0.1", dst: hostname, protocol: 17 },
            checkUdp({ src: "10.0.0.1", dst: hostname, srcPort: 6000, dstPort: 67 }),
          ),
        ),
      );
      assert.equal(frames.length, 1);
      for (const conn of [sender, rb, rc]) conn.close();
    });
  });
}

Deno.test("udp setBroadcast(true) enables broadcast on an open socket", async () => {
  await withEnv(lan(), async (env) => {
    const [a, b] = env.hosts as [Stack, Stack];
    const sender = a.listenDatagram({ transport: "udp" });
    const rb = b.listenDatagram({ transport: "udp", port: 68 });
    await assert.rejects(
      sender.send(enc.encode("x"), { hostname: "10.0.0.255", port: 68 }),
      Deno.errors.PermissionDenied,
    );
    sender.setBroadcast(true);
    const [data] = await env.run(async () => {
      await sender.send(enc.encode("now"), { hostname: "10.0.0.255", port: 68 });
      return await rb.receive();
    });
    assert.equal(dec.decode(data), "now");
    sender.setBroadcast(false);
    await assert.rejects(
      sender.send(enc.encode("x"), { hostname: "10.0.0.255", port: 68 }),
      Deno.errors.PermissionDenied,
    );
    sender.close();
    rb.close();
  });
});

Deno.test("udp broadcast goes to every reuseAddress socket on the port, not to one bound to a unicast address", async () => {
  await withEnv(lan(), async (env) => {
    const [a, b] = env.hosts as [Stack, Stack];
    const sender = a.listenDatagram({ transport: "udp", broadcast: true });
    const first = b.listenDatagram({ transport: "udp", port: 5353, reuseAddress: true });
    const second = b.listenDatagram({ transport: "udp", port: 5353, reuseAddress: true });
    const unicast = b.listenDatagram({
      transport: "udp",
      hostname: "10.0.0.2",
      port: 5353,
      reuseAddress: true,
    });
    const onBroadcast = b.listenDatagram({
      transport: "udp",
      hostname: "10.0.0.255",
      port: 5353,
      reuseAddress: true,
    });
    const texts = await env.run(async () => {
      await sender.send(enc.encode("all"), { hostname: "10.0.0.255", port: 5353 });
      const got = await Promise.all([first.receive(), second.receive(), onBroadcast.receive()]);
      return got.map(([d]) => dec.decode(d));
    });
    assert.deepEqual(texts, ["all", "all", "all"]);
    // Linux: a socket bound to 10.0.0.2 does not hear 10.0.0.255.
    const stillEmpty = await Promise.race([
      unicast.receive().then(() => "got one"),
      Promise.resolve("empty"),
    ]);
    assert.equal(stillEmpty, "empty");
    assert.equal(b.counters.get("udp.rx.datagrams").value, 3);
    for (const conn of [sender, first, second, unicast, onBroadcast]) conn.close();
  });
});

Deno.test("udp broadcast to a port nobody listens on is dropped without an ICMP error", async () => {
  await withEnv(lan(), async (env) => {
    const [a, b, c] = env.hosts as [Stack, Stack, Stack];
    const sender = a.listenDatagram({ transport: "udp", broadcast: true });
    await env.run(() => sender.send(enc.encode("?"), { hostname: "255.255.255.255", port: 999 }));
    env.runFor(1_000_000);
    for (const h of [b, c]) {
      assert.equal(h.counters.get("udp.rx.ignored_broadcast").value, 1);
      assert.equal(h.counters.get("udp.tx.port_unreachable").value, 0);
    }
    assert.equal(framesMatching(env.capture!.frames(), checkIpv4({ protocol: 1 })).length, 0);
    sender.close();
  });
});

Deno.test("udp multicast to 224.0.0.1 reaches every host without broadcast, with TTL 1", async () => {
  await withEnv(lan(), async (env) => {
    const [a, b, c] = env.hosts as [Stack, Stack, Stack];
    const sender = a.listenDatagram({ transport: "udp", ttl: 64 });
    const rb = b.listenDatagram({ transport: "udp", port: 5000 });
    const rc = c.listenDatagram({ transport: "udp", hostname: "224.0.0.1", port: 5000 });
    const got = await env.run(async () => {
      await sender.send(enc.encode("all systems"), { hostname: "224.0.0.1", port: 5000 });
      return await Promise.all([rb.receive(), rc.receive()]);
    });
    assert.deepEqual(got.map(([d]) => dec.decode(d)), ["all systems", "all systems"]);
    const frames = framesMatching(
      env.capture!.frames(),
      checkEthernet(
        { dst: "01:00:5e:00:00:01" },
        checkIpv4(
          { dst: "224.0.0.1", ttl: 1 },
          checkUdp({ src: "10.0.0.1", dst: "224.0.0.1", dstPort: 5000 }),
        ),
      ),
    );
    assert.equal(frames.length, 1);
    for (const conn of [sender, rb, rc]) conn.close();
  });
});
