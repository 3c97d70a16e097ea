/**
 * One error for one situation: `stack.close()` under open sockets. Every
 * call waiting then is cut short with `Deno.errors.Interrupted` "Cannot
 * <op>…: the stack is closed"; every call made after gets
 * `Deno.errors.BadResource` with the same words; a `for await` over a
 * listener or a datagram socket just ends (errors.ts's policy table, with
 * what Deno does). Before, review17 found three shapes: TCP read, write
 * and connect `Interrupted` "The stack was closed" (no "Cannot read:"), a
 * pending accept and UDP receive/send `BadResource` "…: the socket is
 * closed" (the user closed nothing), and pings `Interrupted` "Cannot
 * ping 10.0.0.9: the stack is closed".
 */
import assert from "node:assert/strict";
import { createStack, SECOND, type StreamService } from "../../mod.ts";
import { makeLink } from "../_harness.ts";
import { makeServiceEnv, withServiceEnv } from "../services/_services.ts";

const STACK_CLOSED = "the stack is closed";

/** The rejection of `p`, or a failure naming `what` if it settled otherwise. */
async function failure(p: Promise<unknown>, what: string): Promise<unknown> {
  try {
    const v = await p;
    return new Error(`${what} resolved (${String(v)}), expected a rejection`);
  } catch (e) {
    return e;
  }
}

/** `[class name, message]` of an error, to compare in one assertion. */
function shape(e: unknown): [string, string] {
  return e instanceof Error ? [e.constructor.name, e.message] : ["not an Error", String(e)];
}

Deno.test("stack.close(): pending calls Interrupted, later calls BadResource, both 'Cannot <op>…: the stack is closed'; for await ends", async () => {
  const env = makeLink(); // a 10.0.0.1, b 10.0.0.2
  const { net, a, b } = env;
  const server = b.listen({ port: 80 });
  await net.run(async () => {
    const wait = (ms: number) =>
      new Promise<void>((resolve) => net.at(net.clock.now() + ms * SECOND / 1000, resolve));
    // Two connections from a to b: one idle (a read waits), one that b
    // half-closes and never reads (a in CLOSE-WAIT, a write waits).
    const idle = await a.connect({ hostname: "10.0.0.2", port: 80 });
    const idlePeer = await server.accept();
    const closeWait = await a.connect({ hostname: "10.0.0.2", port: 80 });
    const closeWaitPeer = await server.accept();
    await closeWaitPeer.closeWrite();
    assert.equal(await closeWait.read(new Uint8Array(1)), null);
    const chunk = new Uint8Array(64 * 1024);
    let writes = 0;
    for (; writes < 64; writes++) {
      const w = closeWait.write(chunk);
      const settled = await Promise.race([w.then(() => true), wait(50).then(() => false)]);
      if (!settled) break;
    }
    assert.ok(writes < 64, "the send buffer never filled: no write waits");
    const pendingWrite = closeWait.write(chunk);

    const listener = a.listen({ port: 8080 });
    const udp = a.listenDatagram({ transport: "udp", port: 7 });
    const udpLoopSocket = a.listenDatagram({ transport: "udp", port: 8 });
    const membership = await udp.joinMulticastV4("239.1.2.3", "10.0.0.1");
    const loopListener = a.listen({ port: 8081 });
    const pending: [string, Promise<unknown>][] = [
      ["connect", a.connect({ hostname: "10.0.0.9", port: 80 })], // no ARP answer: it waits
      ["read", idle.read(new Uint8Array(100))],
      ["write", pendingWrite],
      ["accept", listener.accept()],
      ["receive", udp.receive()],
      ["ping", a.ping("10.0.0.9", { timeout: 100_000 })],
      ["traceroute", a.traceroute("10.0.0.9", { timeout: 10_000 })],
    ];
    // fetch rejects with a TypeError, as Deno's does, the call's error its cause.
    const fetching = failure(a.fetch("http://10.0.0.2/"), "fetch");
    const listenerLoop = (async () => {
      let n = 0;
      for await (const _ of loopListener) n++;
      return n;
    })();
    const datagramLoop = (async () => {
      let n = 0;
      for await (const _ of udpLoopSocket) n++;
      return n;
    })();
    await wait(10);
    a.close();

    const got = await Promise.all(pending.map(([what, p]) => failure(p, what).then(shape)));
    assert.deepEqual(got, [
      ["Interrupted", `Cannot connect to 10.0.0.9:80: ${STACK_CLOSED}`],
      ["Interrupted", `Cannot read: ${STACK_CLOSED}`],
      ["Interrupted", `Cannot write: ${STACK_CLOSED}`],
      ["Interrupted", `Cannot accept: ${STACK_CLOSED}`],
      ["Interrupted", `Cannot receive: ${STACK_CLOSED}`],
      ["Interrupted", `Cannot ping 10.0.0.9: ${STACK_CLOSED}`],
      ["Interrupted", `Cannot traceroute 10.0.0.9: ${STACK_CLOSED}`],
    ]);
    const fetchError = await fetching;
    assert.deepEqual(shape(fetchError), [
      "TypeError",
      `Cannot fetch http://10.0.0.2/: Cannot read: ${STACK_CLOSED}`,
    ]);
    assert.deepEqual(shape((fetchError as Error).cause), [
      "Interrupted",
      `Cannot read: ${STACK_CLOSED}`,
    ]);
    assert.equal(await listenerLoop, 0);
    assert.equal(await datagramLoop, 0);

    // Calls made after: BadResource, the same words.
    const later: [string, () => Promise<unknown>][] = [
      ["read", () => idle.read(new Uint8Array(100))],
      ["read 0 bytes", () => idle.read(new Uint8Array(0))],
      ["write", () => idle.write(new Uint8Array(10))],
      ["write 0 bytes", () => idle.write(new Uint8Array(0))],
      ["close for writing", () => idle.closeWrite()],
      ["accept", () => listener.accept()],
      ["receive", () => udp.receive()],
      ["send", () => udp.send(new Uint8Array(1), { hostname: "10.0.0.2", port: 7 })],
      ["leave", () => membership.leave()],
    ];
    const after = await Promise.all(later.map(([what, call]) => failure(call(), what).then(shape)));
    assert.deepEqual(after, [
      ["BadResource", `Cannot read: ${STACK_CLOSED}`],
      ["BadResource", `Cannot read: ${STACK_CLOSED}`],
      ["BadResource", `Cannot write: ${STACK_CLOSED}`],
      ["BadResource", `Cannot write: ${STACK_CLOSED}`],
      ["BadResource", `Cannot close for writing: ${STACK_CLOSED}`],
      ["BadResource", `Cannot accept: ${STACK_CLOSED}`],
      ["BadResource", `Cannot receive: ${STACK_CLOSED}`],
      ["BadResource", `Cannot send to 10.0.0.2:7: ${STACK_CLOSED}`],
      ["BadResource", `Cannot leave 239.1.2.3: ${STACK_CLOSED}`],
    ]);
    // The end of stream that arrived before still reads, as received bytes do.
    assert.equal(await closeWait.read(new Uint8Array(10)), null);
    assert.deepEqual(shape(catching(() => idle.setNoDelay(true))), [
      "BadResource",
      `Cannot set no-delay: ${STACK_CLOSED}`,
    ]);
    assert.deepEqual(shape(catching(() => udp.setBroadcast(true))), [
      "BadResource",
      `Cannot set broadcast: ${STACK_CLOSED}`,
    ]);

    // The user may still close each once; then it is the user's close that speaks.
    for (const s of [idle, closeWait, listener, udp, loopListener, udpLoopSocket]) s.close();
    assert.deepEqual(shape(await failure(idle.read(new Uint8Array(1)), "read")), [
      "BadResource",
      "Cannot read: the socket is closed",
    ]);
    assert.deepEqual(shape(await failure(listener.accept(), "accept")), [
      "BadResource",
      "Cannot accept: the socket is closed",
    ]);
    assert.deepEqual(shape(await failure(udp.receive(), "receive")), [
      "BadResource",
      "Cannot receive: the socket is closed",
    ]);
    assert.deepEqual(shape(await failure(membership.leave(), "leave")), [
      "BadResource",
      "Cannot leave 239.1.2.3: the socket is closed",
    ]);
    const fetchPeer = await server.accept(); // the fetch's connection, never answered
    fetchPeer.close();
    idlePeer.close();
    closeWaitPeer.close();
  }, { timeout: 200 * SECOND });
  server.close();
  env.close();
});

Deno.test("abortAll() (cli up's shutdown) cuts a pending accept short the same way", async () => {
  const s = createStack({ seed: 1 });
  const listener = s.listen({ port: 80 });
  const accept = listener.accept();
  s.service<StreamService>("tcp.sockets")!.abortAll!();
  assert.deepEqual(shape(await failure(accept, "accept")), [
    "Interrupted",
    `Cannot accept: ${STACK_CLOSED}`,
  ]);
  assert.deepEqual(shape(await failure(listener.accept(), "accept")), [
    "BadResource",
    `Cannot accept: ${STACK_CLOSED}`,
  ]);
  listener.close();
  s.close();
});

function catching(f: () => void): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return new Error("no error thrown");
}

Deno.test("abortAll() at shutdown: a service's accept loop ends quietly (Interrupted is no failure)", async () => {
  await withServiceEnv(makeServiceEnv({ services: ["echo"] }), async (env) => {
    await env.run(async () => {
      env.server.service<StreamService>("tcp.sockets")!.abortAll!();
      await new Promise<void>((resolve) => env.net.at(env.net.clock.now() + SECOND / 100, resolve));
    });
    assert.equal(env.counter("echo.errors"), 0);
  });
});
