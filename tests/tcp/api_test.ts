/**
 * The Deno-shaped API: errors after close (BadResource, BrokenPipe,
 * NotConnected), `using` disposal, a connection to the stack's own address
 * (delivered synchronously through the IPv4 loopback path, so the connection
 * re-enters itself), echo through `pipeTo`, and the `ss -tani` listing.
 */
import assert from "node:assert/strict";
import { makeLink, ms } from "../_harness.ts";
import { formatSockets } from "../../mod.ts";
import { activeOpen, pattern, Peer, text } from "./_tcp.ts";

Deno.test("tcp API: use after close() throws BadResource; closeWrite() twice is harmless", async () => {
  const peer = new Peer();
  const c = await activeOpen(peer);
  await c.conn.closeWrite();
  await c.conn.closeWrite();
  await assert.rejects(() => c.conn.write(text("x")), Deno.errors.BrokenPipe);
  c.conn.close();
  assert.throws(() => c.conn.close(), Deno.errors.BadResource);
  await assert.rejects(() => c.conn.read(new Uint8Array(1)), Deno.errors.BadResource);
  await assert.rejects(() => c.conn.write(text("x")), Deno.errors.BadResource);
  peer.finish();
});

Deno.test("tcp API: closeWrite() on a reset connection rejects NotConnected", async () => {
  const peer = new Peer();
  const c = await activeOpen(peer);
  peer.send({ srcPort: 80, dstPort: c.port, seq: c.peerNxt, flags: "R" });
  await assert.rejects(() => c.conn.closeWrite(), Deno.errors.NotConnected);
  c.conn.close();
  peer.finish();
});

Deno.test("tcp API: a pending read() is cut short by close() (Interrupted, as Deno's)", async () => {
  const peer = new Peer();
  const c = await activeOpen(peer);
  const pending = c.conn.read(new Uint8Array(8));
  c.conn.close();
  await assert.rejects(() => pending, {
    name: "Interrupted",
    message: "Cannot read: the socket is closed",
  });
  await assert.rejects(() => c.conn.read(new Uint8Array(8)), Deno.errors.BadResource);
  peer.finish();
});

Deno.test("tcp API: `using` closes the connection and the listener", async () => {
  const env = makeLink({ seed: 11, faults: { delay: ms(1) } });
  await env.run(async () => {
    using l = env.b.listen({ port: 99 });
    using c = await env.a.connect({ hostname: "10.0.0.2", port: 99 });
    using s = await l.accept();
    await c.write(text("bye"));
    assert.equal(await s.read(new Uint8Array(3)), 3);
  });
  env.runFor(ms(70_000));
  assert.deepEqual(env.a.sockets(), []);
  assert.deepEqual(env.b.sockets(), []);
  env.finish();
});

Deno.test("tcp a connection to the stack's own address works (synchronous loopback)", async () => {
  const env = makeLink({ seed: 12 });
  const l = env.a.listen({ port: 7000 });
  await env.run(async () => {
    const [c, s] = await Promise.all([
      env.a.connect({ hostname: "10.0.0.1", port: 7000 }),
      l.accept(),
    ]);
    const data = pattern(500_000);
    const writer = (async () => {
      let off = 0;
      while (off < data.length) off += await c.write(data.subarray(off));
      await c.closeWrite();
    })();
    const got = new Uint8Array(data.length + 1);
    let n = 0;
    for (;;) {
      const r = await s.read(got.subarray(n));
      if (r === null) break;
      n += r;
    }
    await writer;
    assert.equal(n, data.length);
    assert.deepEqual(got.subarray(0, n), data);
    c.close();
    s.close();
  });
  l.close();
  env.finish();
});

Deno.test("tcp echo server with pipeTo, client through streams", async () => {
  const env = makeLink({ seed: 13, faults: { delay: ms(3), loss: 0.02 } });
  const l = env.b.listen({ port: 7 });
  const reply = await env.run(async () => {
    const server = (async () => {
      const conn = await l.accept();
      await conn.readable.pipeTo(conn.writable);
    })();
    const c = await env.a.connect({ hostname: "10.0.0.2", port: 7 });
    const sent = pattern(100_000);
    const w = c.writable.getWriter();
    const writing = (async () => {
      await w.write(sent);
      await w.close();
    })();
    const chunks: Uint8Array[] = [];
    for await (const chunk of c.readable) chunks.push(chunk.slice());
    await writing;
    await server;
    const all = new Uint8Array(chunks.reduce((n, x) => n + x.length, 0));
    let off = 0;
    for (const x of chunks) {
      all.set(x, off);
      off += x.length;
    }
    return { all, sent };
  });
  assert.deepEqual(reply.all, reply.sent);
  l.close();
  env.runFor(ms(70_000));
  env.finish();
});

Deno.test("tcp sockets() and formatSockets() list listeners and connections like ss -tani", async () => {
  const peer = new Peer();
  const l = peer.stack.listen({ port: 22 });
  const c = await activeOpen(peer, 80, { mss: 1460, sackOk: true, ts: [1, 0], wscale: 2 });
  const list = peer.stack.sockets();
  assert.deepEqual(list.map((s) => s.state), ["LISTEN", "ESTABLISHED"]);
  const est = list[1]!;
  assert.equal(est.remote, "10.0.0.2:80");
  assert.equal(est.cc, "cubic");
  const textTable = formatSockets(list);
  assert.match(textTable, /^State\s+Recv-Q\s+Send-Q\s+Local Address:Port\s+Peer Address:Port/);
  assert.match(textTable, /LISTEN\s+0\s+128\s+0\.0\.0\.0:22\s+0\.0\.0\.0:\*/);
  assert.match(textTable, /ESTABLISHED\s+0\s+0\s+10\.0\.0\.1:\d+\s+10\.0\.0\.2:80/);
  assert.match(textTable, /cubic ts sack wscale:2,7 rto:\d+ rtt:[\d.]+\/[\d.]+ mss:1448 cwnd:10/);
  c.conn.close();
  l.close();
  peer.finish();
});
