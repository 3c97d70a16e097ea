/**
 * `for await` over a `DatagramConn` (issue 13: an iterator object, not an
 * async generator): what a generator would do at a `break`, a close, an
 * ICMP error and a mix with `receive()`.
 */
import assert from "node:assert/strict";
import { makeLink, withEnv } from "../_harness.ts";
import { MAX_WAITING_CALLS } from "../../stack/sockets/errors.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

Deno.test("udp for await: break ends that loop; a new loop goes on with the queued datagrams", async () => {
  await withEnv(makeLink({ seed: 1 }), async (env) => {
    const server = env.b.listenDatagram({ transport: "udp", port: 9 });
    const client = env.a.listenDatagram({ transport: "udp" });
    const seen = await env.run(async () => {
      for (const t of ["one", "two", "three"]) {
        await client.send(enc.encode(t), { hostname: "10.0.0.2", port: 9 });
      }
      const got: string[] = [];
      const it = server[Symbol.asyncIterator]();
      for await (const [data] of { [Symbol.asyncIterator]: () => it }) {
        got.push(dec.decode(data));
        break;
      }
      // The broken-out-of iterator is done, as a generator would be.
      assert.deepEqual(await it.next(), { value: undefined, done: true });
      for await (const [data, from] of server) {
        got.push(dec.decode(data));
        assert.equal(from.hostname, "10.0.0.1");
        if (got.length === 3) break;
      }
      return got;
    });
    assert.deepEqual(seen, ["one", "two", "three"]);
    server.close();
    client.close();
  });
});

Deno.test("udp for await: receive() calls and the loop share one queue, in call order", async () => {
  await withEnv(makeLink({ seed: 1 }), async (env) => {
    const server = env.b.listenDatagram({ transport: "udp", port: 9 });
    const client = env.a.listenDatagram({ transport: "udp" });
    const order = await env.run(async () => {
      const it = server[Symbol.asyncIterator]();
      const first = it.next(); // waits before any datagram
      const second = server.receive();
      const third = it.next();
      for (const t of ["a", "b", "c"]) {
        await client.send(enc.encode(t), { hostname: "10.0.0.2", port: 9 });
      }
      const r1 = await first, r2 = await second, r3 = await third;
      assert.ok(!r1.done && !r3.done);
      return [dec.decode(r1.value[0]), dec.decode(r2[0]), dec.decode(r3.value[0])];
    });
    assert.deepEqual(order, ["a", "b", "c"]);
    server.close();
    client.close();
  });
});

Deno.test("udp for await: close() while the loop waits ends it; next() after the end is done", async () => {
  await withEnv(makeLink({ seed: 1 }), async (env) => {
    const server = env.b.listenDatagram({ transport: "udp", port: 9 });
    const it = server[Symbol.asyncIterator]();
    const waiting = it.next();
    const receiving = server.receive();
    server.close();
    assert.deepEqual(await waiting, { value: undefined, done: true });
    await assert.rejects(receiving, Deno.errors.Interrupted); // cut short, as Deno's
    assert.deepEqual(await it.next(), { value: undefined, done: true });
    assert.deepEqual(await it.return!(), { value: undefined, done: true });
  });
});

Deno.test("udp for await: an ICMP port unreachable is thrown once and ends the loop", async () => {
  await withEnv(makeLink({ seed: 2 }), async (env) => {
    const client = env.a.listenDatagram({ transport: "udp" });
    client.connect({ hostname: "10.0.0.2", port: 9999 });
    const outcome = await env.run(async () => {
      await client.send(enc.encode("knock"));
      const it = client[Symbol.asyncIterator]();
      let thrown: unknown = null;
      try {
        for await (const _ of { [Symbol.asyncIterator]: () => it }) return "received";
      } catch (e) {
        thrown = e;
      }
      // Like a generator that threw: the iterator is finished.
      return { thrown, after: await it.next() };
    });
    assert.ok(typeof outcome !== "string", "nothing was received");
    assert.ok(outcome.thrown instanceof Deno.errors.ConnectionRefused, String(outcome.thrown));
    assert.deepEqual(outcome.after, { value: undefined, done: true });
    // Reported once: the socket works again.
    assert.equal(await client.send(enc.encode("again")), 5);
    client.close();
  });
});

Deno.test("udp for await: next() past the waiting-call limit is Busy and ends that iterator", async () => {
  await withEnv(makeLink({ seed: 1 }), async (env) => {
    const server = env.b.listenDatagram({ transport: "udp", port: 9 });
    const waiting: Promise<unknown>[] = [];
    for (let i = 0; i < MAX_WAITING_CALLS; i++) waiting.push(server.receive());
    const it = server[Symbol.asyncIterator]();
    await assert.rejects(it.next(), Deno.errors.Busy);
    assert.deepEqual(await it.next(), { value: undefined, done: true });
    server.close();
    for (const r of await Promise.allSettled(waiting)) {
      assert.ok(r.status === "rejected" && r.reason instanceof Deno.errors.Interrupted);
    }
  });
});
