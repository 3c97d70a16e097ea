// receive() without a buffer carves datagrams from a per-socket slab (issue
// 13: a fresh ArrayBuffer per datagram cost ~1 µs in Deno). These tests hold
// the contract that makes that safe: every array returned is the caller's
// alone (no region handed out twice, none written after it was returned).
import assert from "node:assert/strict";
import type { DatagramConn } from "../../mod.ts";
import {
  SLAB_DATAGRAM_MAX,
  SLAB_FIRST_BYTES,
  SLAB_MAX_BYTES,
} from "../../stack/sockets/datagram_receive.ts";
import { type LinkPair, makeLink, withEnv } from "../_harness.ts";

const TO = { hostname: "10.0.0.2", port: 9 };

/** Datagram `i`: a size that wanders over 1..1500 bytes and a pattern of its own. */
function datagram(i: number): Uint8Array {
  const n = 1 + (i * 373) % 1500;
  return Uint8Array.from({ length: n }, (_, k) => (i * 31 + k) & 0xff);
}

/** Sends `count` datagrams in batches the receive queue holds; `take` receives each. */
async function exchange(
  env: LinkPair,
  count: number,
  take: (server: DatagramConn, n: number) => Promise<Uint8Array[]>,
): Promise<Uint8Array[]> {
  const server = env.b.listenDatagram({ transport: "udp", port: 9 });
  const client = env.a.listenDatagram({ transport: "udp" });
  try {
    return await env.run(async () => {
      const got: Uint8Array[] = [];
      for (let i = 0; i < count; i += 40) {
        const n = Math.min(40, count - i);
        for (let k = 0; k < n; k++) await client.send(datagram(i + k), TO);
        got.push(...await take(server, n));
      }
      return got;
    });
  } finally {
    server.close();
    client.close();
  }
}

/** Every array intact, regions of one buffer disjoint and 8-aligned, slabs bounded. */
function assertOwned(got: readonly Uint8Array[]): void {
  const byBuffer = new Map<ArrayBufferLike, Uint8Array[]>();
  got.forEach((d, i) => {
    assert.deepEqual(d, datagram(i), `datagram ${i} unchanged after later receives`);
    assert.equal(d.byteOffset % 8, 0, `datagram ${i} starts 8-aligned`);
    assert.ok(d.buffer.byteLength <= SLAB_MAX_BYTES);
    byBuffer.set(d.buffer, [...byBuffer.get(d.buffer) ?? [], d]);
  });
  let shared = 0;
  for (const views of byBuffer.values()) {
    if (views.length > 1) shared++;
    const spans = views.map((v) => [v.byteOffset, v.byteOffset + v.length]).sort((a, b) =>
      a[0]! - b[0]!
    );
    for (let k = 1; k < spans.length; k++) {
      assert.ok(spans[k]![0]! >= spans[k - 1]![1]!, "no byte handed out twice");
    }
  }
  assert.ok(shared > 2, "the datagrams came from a few shared slabs");
}

Deno.test("udp receive() without a buffer: every datagram its own bytes across many slabs", async () => {
  await withEnv(makeLink({ seed: 1 }), async (env) => {
    const got = await exchange(env, 400, async (server, n) => {
      const out: Uint8Array[] = [];
      for (let k = 0; k < n; k++) out.push((await server.receive())[0]);
      return out;
    });
    assertOwned(got);
    // 400 datagrams of ~750 bytes are ~300 KB: past the first slab and the largest.
    assert.equal(got[0]!.buffer.byteLength, SLAB_FIRST_BYTES);
    assert.equal(got.at(-1)!.buffer.byteLength, SLAB_MAX_BYTES);
  });
});

Deno.test("udp for await: every datagram its own bytes, writing one leaves the others", async () => {
  await withEnv(makeLink({ seed: 2 }), async (env) => {
    const got = await exchange(env, 200, async (server, n) => {
      const out: Uint8Array[] = [];
      for await (const [data] of server) {
        out.push(data);
        if (out.length === n) break;
      }
      return out;
    });
    assertOwned(got);
    got[5]!.fill(0xee); // the caller's to change
    got[5]!.set(datagram(5));
    assertOwned(got);
  });
});

Deno.test("udp receive(): a datagram over the slab limit gets an ArrayBuffer of its own", async () => {
  await withEnv(makeLink({ seed: 3 }), async (env) => {
    const server = env.b.listenDatagram({ transport: "udp", port: 9 });
    const client = env.a.listenDatagram({ transport: "udp" });
    const [small, large] = await env.run(async () => {
      await client.send(new Uint8Array(SLAB_DATAGRAM_MAX).fill(1), TO);
      await client.send(new Uint8Array(SLAB_DATAGRAM_MAX + 1).fill(2), TO);
      return [(await server.receive())[0], (await server.receive())[0]];
    });
    assert.equal(small.length, SLAB_DATAGRAM_MAX);
    assert.equal(small.buffer.byteLength, SLAB_FIRST_BYTES);
    assert.equal(large.length, SLAB_DATAGRAM_MAX + 1);
    assert.equal(large.byteOffset, 0);
    assert.equal(large.buffer.byteLength, SLAB_DATAGRAM_MAX + 1);
    assert.ok(large.every((b) => b === 2));
    server.close();
    client.close();
  });
});

Deno.test("udp receive() after the caller detached a datagram's buffer goes on in a new slab", async () => {
  await withEnv(makeLink({ seed: 4 }), async (env) => {
    const server = env.b.listenDatagram({ transport: "udp", port: 9 });
    const client = env.a.listenDatagram({ transport: "udp" });
    const got = await env.run(async () => {
      const out: Uint8Array[] = [];
      for (let i = 0; i < 6; i++) {
        await client.send(i === 1 ? new Uint8Array(0) : datagram(i), TO);
        const [data] = await server.receive();
        // Transferring detaches the whole slab: the datagrams carved from it
        // so far go with it (as with Node's pooled Buffers); later ones not.
        if (i === 0 || i === 1) (data.buffer as ArrayBuffer).transfer();
        out.push(data);
      }
      return out;
    });
    assert.equal(got[0]!.length, 0, "detached with its slab");
    for (let i = 2; i < 6; i++) assert.deepEqual(got[i], datagram(i));
    assert.notEqual(got[2]!.buffer, got[0]!.buffer);
    server.close();
    client.close();
  });
});
