/**
 * `TcpConn.discard`: a sink consumes received bytes without copying them.
 * Each test checks the byte positions through a `read` after the discard,
 * so a discard that consumed more or fewer bytes than it said fails.
 */
import assert from "node:assert/strict";
import { createStack, VirtualNetwork } from "../../mod.ts";
import type { Stack } from "../../mod.ts";
import type { TcpConn } from "../../stack/sockets/types.ts";

/** Byte `i` of every stream these tests send. */
function byteAt(i: number): number {
  return (i * 7 + 3) & 0xff;
}

function pattern(from: number, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = byteAt(from + i);
  return b;
}

/** Two stacks on one link; `fn` gets the client's and the server's end of one connection. */
async function withPair<T>(
  fn: (client: TcpConn, server: TcpConn, stacks: { server: Stack }) => Promise<T>,
): Promise<T> {
  const net = new VirtualNetwork({ seed: 7 });
  const link = net.link();
  const server = net.addNode(createStack({ clock: net.clock, seed: 1 }));
  const client = net.addNode(createStack({ clock: net.clock, seed: 2 }));
  server.addInterface({ driver: link.a, addresses: ["10.0.0.2/24"] });
  client.addInterface({ driver: link.b, addresses: ["10.0.0.1/24"] });
  try {
    return await net.run(async () => {
      const listener = server.listen({ port: 9 });
      const accepted = listener.accept();
      const c = await client.connect({ hostname: "10.0.0.2", port: 9 });
      const s = await accepted;
      listener.close();
      return await fn(c, s, { server });
    });
  } finally {
    client.close();
    server.close();
    net.close();
  }
}

async function writeAll(conn: TcpConn, p: Uint8Array): Promise<void> {
  for (let off = 0; off < p.length;) off += await conn.write(p.subarray(off));
}

async function readExact(conn: TcpConn, n: number): Promise<Uint8Array> {
  const b = new Uint8Array(n);
  for (let off = 0; off < n;) {
    const k = await conn.read(b.subarray(off));
    assert.notEqual(k, null, "end of stream before the bytes expected");
    off += k!;
  }
  return b;
}

Deno.test("TcpConn.discard consumes 4 MiB (many windows) to FIN; reads around it see the right bytes", async () => {
  const total = 4 << 20;
  await withPair(async (client, server) => {
    const sending = (async () => {
      await writeAll(client, pattern(0, total));
      await client.closeWrite();
    })();
    // 1,000 bytes read, then discards of at most 100,000, each followed by a 10-byte read.
    let at = 0;
    assert.deepEqual(await readExact(server, 1000), pattern(0, 1000));
    at += 1000;
    let discards = 0;
    for (;;) {
      const n = await server.discard(100_000);
      if (n === null) break;
      assert.ok(n >= 1 && n <= 100_000, `discard returned ${n}`);
      at += n;
      discards++;
      if (at + 10 > total) continue;
      assert.deepEqual(await readExact(server, 10), pattern(at, 10), `bytes after ${at}`);
      at += 10;
    }
    await sending;
    assert.equal(at, total);
    assert.ok(discards >= total / 100_010, `${discards} discards`);
  });
});

Deno.test("TcpConn.discard() with no limit takes all buffered bytes; discard(0) is 0", async () => {
  await withPair(async (client, server) => {
    await writeAll(client, pattern(0, 3000));
    assert.equal(await server.discard(0), 0);
    let got = 0;
    while (got < 3000) got += (await server.discard())!;
    assert.equal(got, 3000);
    await writeAll(client, pattern(3000, 5));
    assert.deepEqual(await readExact(server, 5), pattern(3000, 5));
  });
});

Deno.test("TcpConn.discard waits behind a pending read, in call order", async () => {
  await withPair(async (client, server) => {
    const buf = new Uint8Array(4);
    const read = server.read(buf);
    const discard = server.discard(6);
    const after = server.read(new Uint8Array(100));
    await writeAll(client, pattern(0, 20));
    assert.equal(await read, 4);
    assert.deepEqual(buf, pattern(0, 4));
    assert.equal(await discard, 6);
    assert.equal(await after, 10);
  });
});

Deno.test("TcpConn.discard checks its argument and rejects once the conn is closed", async () => {
  await withPair(async (_client, server) => {
    await assert.rejects(server.discard(-1), RangeError);
    await assert.rejects(server.discard(1.5), TypeError);
    await assert.rejects(server.discard(Number.NaN), TypeError);
    const pending = server.discard(10);
    server.close();
    await assert.rejects(pending, Deno.errors.Interrupted); // cut short, as a read is
    await assert.rejects(server.discard(10), Deno.errors.BadResource);
  });
});
