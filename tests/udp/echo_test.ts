import assert from "node:assert/strict";
import { createStack, DEFAULT_PLUGINS, type Stack, udpPlugin } from "../../mod.ts";
import { makeLan, makeLink, withEnv } from "../_harness.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

function bytes(n: number, seed = 0): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff);
}

Deno.test("udp echo between two hosts with for await", async () => {
  await withEnv(makeLan({ hosts: 2, seed: 3 }), async (env) => {
    const [a, b] = env.hosts as [Stack, Stack];
    const server = b.listenDatagram({ transport: "udp", port: 7 });
    const client = a.listenDatagram({ transport: "udp" });
    const sizes = [0, 1, 64, 512, 1472];
    const replies = await env.run(async () => {
      const echo = (async () => {
        for await (const [data, from] of server) await server.send(data, from);
      })();
      const got: [number, Deno.NetAddr][] = [];
      for (const [i, n] of sizes.entries()) {
        const msg = bytes(n, i);
        assert.equal(await client.send(msg, { hostname: "10.0.0.2", port: 7 }), n);
        const [data, from] = await client.receive();
        assert.deepEqual(data, msg);
        got.push([data.length, from]);
      }
      server.close();
      await echo;
      return got;
    });
    assert.deepEqual(replies.map((r) => r[0]), sizes);
    for (const [, from] of replies) {
      assert.deepEqual(from, { transport: "udp", hostname: "10.0.0.2", port: 7 });
    }
    assert.equal(b.counters.get("udp.rx.datagrams").value, sizes.length);
    assert.equal(a.counters.get("udp.tx.datagrams").value, sizes.length);
    client.close();
  });
});

Deno.test("udp server sees the client's address and ephemeral port", async () => {
  await withEnv(makeLink({ seed: 1 }), async (env) => {
    const server = env.b.listenDatagram({ transport: "udp", hostname: "10.0.0.2", port: 53 });
    const client = env.a.listenDatagram({ transport: "udp" });
    const port = client.addr.port;
    assert.ok(port >= 49152 && port <= 65535, `ephemeral port ${port}`);
    const [data, from] = await env.run(async () => {
      await client.send(enc.encode("query"), { hostname: "10.0.0.2", port: 53 });
      return await server.receive();
    });
    assert.equal(dec.decode(data), "query");
    assert.deepEqual(from, { transport: "udp", hostname: "10.0.0.1", port });
    assert.deepEqual(server.addr, { transport: "udp", hostname: "10.0.0.2", port: 53 });
    server.close();
    client.close();
  });
});

Deno.test("udp receive(p) fills the buffer and truncates a longer datagram", async () => {
  await withEnv(makeLink({ seed: 1 }), async (env) => {
    const server = env.b.listenDatagram({ transport: "udp", port: 9 });
    const client = env.a.listenDatagram({ transport: "udp" });
    const got = await env.run(async () => {
      await client.send(enc.encode("hello world"), { hostname: "10.0.0.2", port: 9 });
      await client.send(enc.encode("hi"), { hostname: "10.0.0.2", port: 9 });
      const buf = new Uint8Array(5);
      const [first] = await server.receive(buf);
      const firstText = dec.decode(first); // copied out before buf is reused
      const [second] = await server.receive(buf);
      return { firstText, first, second, buf };
    });
    assert.equal(got.firstText, "hello");
    assert.equal(got.first.buffer, got.buf.buffer);
    assert.equal(dec.decode(got.second), "hi");
    server.close();
    client.close();
  });
});

Deno.test("udp concurrent receive() calls resolve in arrival order", async () => {
  await withEnv(makeLink({ seed: 1 }), async (env) => {
    const server = env.b.listenDatagram({ transport: "udp", port: 9 });
    const client = env.a.listenDatagram({ transport: "udp" });
    const texts = await env.run(async () => {
      const waits = [server.receive(), server.receive(), server.receive()];
      for (const t of ["one", "two", "three"]) {
        await client.send(enc.encode(t), { hostname: "10.0.0.2", port: 9 });
      }
      return (await Promise.all(waits)).map(([d]) => dec.decode(d));
    });
    assert.deepEqual(texts, ["one", "two", "three"]);
    server.close();
    client.close();
  });
});

Deno.test("udp close() cuts a pending receive() short (Interrupted, as Deno's), later ones BadResource", async () => {
  await withEnv(makeLink({ seed: 1 }), async (env) => {
    const conn = env.b.listenDatagram({ transport: "udp", port: 9 });
    const pending = conn.receive();
    conn.close();
    await assert.rejects(pending, {
      name: "Interrupted",
      message: "Cannot receive: the socket is closed",
    });
    await assert.rejects(conn.receive(), Deno.errors.BadResource);
    await assert.rejects(
      conn.send(new Uint8Array(1), { hostname: "10.0.0.1", port: 9 }),
      Deno.errors.BadResource,
    );
    assert.throws(() => conn.setBroadcast(true), Deno.errors.BadResource);
    // Closing twice is BadResource, as Deno's DatagramConn and TcpConn.close() do.
    assert.throws(() => conn.close(), Deno.errors.BadResource);
  });
});

Deno.test("udp stack close() ends a for await loop and frees queued datagrams", async () => {
  const env = makeLink({ seed: 1 });
  const server = env.b.listenDatagram({ transport: "udp", port: 9 });
  const client = env.a.listenDatagram({ transport: "udp" });
  await env.run(async () => {
    for (let i = 0; i < 3; i++) {
      await client.send(bytes(100), { hostname: "10.0.0.2", port: 9 });
    }
  });
  env.runFor(1000);
  assert.ok(env.b.pool.outstanding > 0, "datagrams are queued");
  const loop = (async () => {
    let n = 0;
    for await (const _ of server) n++;
    return n;
  })();
  await Promise.resolve();
  env.finish(); // closes the stacks: the loop ends, queued buffers are released (checked)
  const n = await loop;
  assert.ok(n >= 1 && n <= 3, `${n} datagrams received before the close`);
  await assert.rejects(server.receive(), Deno.errors.BadResource);
});

Deno.test("udp datagram to our own address is delivered locally", async () => {
  await withEnv(makeLink({ seed: 1 }), async (env) => {
    const a = env.a;
    const server = a.listenDatagram({ transport: "udp", port: 9 });
    const client = a.listenDatagram({ transport: "udp" });
    const [data, from] = await env.run(async () => {
      await client.send(enc.encode("self"), { hostname: "10.0.0.1", port: 9 });
      return await server.receive();
    });
    assert.equal(dec.decode(data), "self");
    assert.deepEqual(from, { transport: "udp", hostname: "10.0.0.1", port: client.addr.port });
    server.close();
    client.close();
  });
});

Deno.test("udp send without a route rejects with NetworkUnreachable", async () => {
  await withEnv(makeLink({ seed: 1 }), async (env) => {
    const conn = env.a.listenDatagram({ transport: "udp" });
    await assert.rejects(
      conn.send(new Uint8Array(4), { hostname: "192.168.50.1", port: 9 }),
      Deno.errors.NetworkUnreachable,
    );
    assert.equal(env.a.counters.get("udp.tx.no_route").value, 1);
    conn.close();
  });
});

Deno.test("udp send of more than 65507 bytes rejects with RangeError", async () => {
  await withEnv(makeLink({ seed: 1 }), async (env) => {
    const conn = env.a.listenDatagram({ transport: "udp" });
    await assert.rejects(
      conn.send(new Uint8Array(65508), { hostname: "10.0.0.2", port: 9 }),
      RangeError,
      "65507",
    );
    conn.close();
  });
});

for (const size of [4000, 65507]) {
  Deno.test(`udp ${size}-byte datagram over the MTU is fragmented by IPv4 and delivered whole`, async () => {
    await withEnv(makeLink({ seed: 1 }), async (env) => {
      const server = env.b.listenDatagram({ transport: "udp", port: 9 });
      const client = env.a.listenDatagram({ transport: "udp" });
      const big = bytes(size);
      const [data, from] = await env.run(async () => {
        // Resolve ARP first: its queue holds 16 packets, fewer than the fragments.
        await client.send(bytes(1), { hostname: "10.0.0.2", port: 9 });
        await server.receive();
        await client.send(big, { hostname: "10.0.0.2", port: 9 });
        return await server.receive();
      });
      assert.deepEqual(data, big);
      assert.equal((from as Deno.NetAddr).hostname, "10.0.0.1");
      server.close();
      client.close();
    });
  });
}

Deno.test("udp listenDatagram on an address this host lacks throws AddrNotAvailable", async () => {
  await withEnv(makeLink({ seed: 1 }), (env) => {
    assert.throws(
      () => env.a.listenDatagram({ transport: "udp", hostname: "10.0.0.2", port: 9 }),
      Deno.errors.AddrNotAvailable,
    );
  });
});

Deno.test("udp listenDatagram rejects bad arguments", async () => {
  await withEnv(makeLink({ seed: 1 }), (env) => {
    const a = env.a;
    assert.throws(
      () => a.listenDatagram({ transport: "tcp" as "udp" }),
      TypeError,
    );
    assert.throws(() => a.listenDatagram({ transport: "udp", hostname: "example.com" }), TypeError);
    assert.throws(() => a.listenDatagram({ transport: "udp", port: 70000 }), RangeError);
    assert.throws(() => a.listenDatagram({ transport: "udp", ttl: 0 }), RangeError);
    assert.throws(
      () => a.listenDatagram({ transport: "udp", receiveQueueLimit: 0 }),
      RangeError,
    );
  });
});

Deno.test("udp listenDatagram without the UDP plugin throws NotSupported", () => {
  const stack = createStack({ seed: 1, plugins: DEFAULT_PLUGINS.filter((p) => p !== udpPlugin) });
  assert.throws(
    () => stack.listenDatagram({ transport: "udp", port: 9 }),
    Deno.errors.NotSupported,
  );
  stack.close();
});

Deno.test("udp send without an address on an unconnected socket rejects with NotConnected", async () => {
  await withEnv(makeLink({ seed: 1 }), async (env) => {
    const conn = env.a.listenDatagram({ transport: "udp" });
    await assert.rejects(conn.send(new Uint8Array(1)), Deno.errors.NotConnected);
    conn.close();
  });
});

Deno.test("udp send reuses the destination parsed last only for the same text: alternating peers, then errors as before", async () => {
  await withEnv(makeLan({ hosts: 3, seed: 5 }), async (env) => {
    const [a, b, c] = env.hosts as [Stack, Stack, Stack];
    const sb = b.listenDatagram({ transport: "udp", port: 7 });
    const sc = c.listenDatagram({ transport: "udp", port: 7 });
    const client = a.listenDatagram({ transport: "udp" });
    const order = [
      "10.0.0.2",
      "10.0.0.3",
      "10.0.0.3",
      "10.0.0.2",
      `10.0.0.${2}`,
      "::ffff:10.0.0.3",
    ];
    await env.run(async () => {
      for (const [i, hostname] of order.entries()) {
        await client.send(Uint8Array.of(i), { hostname, port: 7 });
        const [data, from] = await (hostname.endsWith("2") ? sb : sc).receive();
        assert.deepEqual([...data], [i], `datagram ${i} to ${hostname}`);
        assert.equal(from.hostname, "10.0.0.1");
      }
    });
    // The text just sent to is cached: the port and the rest are still checked.
    const to = (port: unknown) => ({ hostname: "10.0.0.2", port }) as Deno.NetAddr;
    const one = new Uint8Array(1);
    await assert.rejects(client.send(one, to(0)), {
      name: "RangeError",
      message: "Cannot send to 10.0.0.2:0: port 0 is not in 1..65535",
    });
    await assert.rejects(client.send(one, to("7")), {
      name: "TypeError",
      message: 'Cannot send to 10.0.0.2:"7": port "7" is not an integer',
    });
    await assert.rejects(client.send(one, to(7.5)), TypeError);
    await assert.rejects(client.send(new Uint8Array(65508), to(7)), {
      name: "RangeError",
      message:
        "Cannot send to 10.0.0.2:7: 65508 bytes is more than a UDP datagram over IPv4 carries (65507)",
    });
    for (let i = 0; i < 2; i++) {
      await assert.rejects(
        client.send(one, { hostname: "0.0.0.0", port: 7 }),
        /^TypeError: Cannot send to 0\.0\.0\.0:7: not a destination/,
      );
      await assert.rejects(
        client.send(one, { hostname: "10.0.0.999", port: 7 }),
        /is not an IP address/,
      );
    }
    client.close();
    await assert.rejects(client.send(one, to(7)), {
      name: "BadResource",
      message: "Cannot send to 10.0.0.2:7: the socket is closed",
    });
    sb.close();
    sc.close();
  });
});
