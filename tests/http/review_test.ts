/**
 * Bugs found reviewing `stack.serve()` / `stack.fetch()` (issue #20), each
 * pinned by the test that first failed: framing for HTTP/1.0 peers and a
 * peer that never reads its response.
 */
import assert from "node:assert/strict";
import {
  bytes,
  delay,
  makeServiceEnv,
  readAllText,
  SERVER,
  type ServiceEnv,
  withServiceEnv,
  writeAll,
} from "../services/_services.ts";
import { exchange, withHttpServer as withServer } from "./_http.ts";

/** A body that is not at hand at once (so it cannot get a Content-Length). */
function slowBody(parts: readonly string[], env: ServiceEnv): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    async pull(ctl) {
      await delay(env, 1);
      if (i < parts.length) ctl.enqueue(bytes(parts[i++]!));
      else ctl.close();
    },
  });
}

Deno.test("serve never sends chunked to an HTTP/1.0 client: the body ends with the connection", async () => {
  // RFC 9112 §6.1: no Transfer-Encoding unless the request is HTTP/1.1.
  await withServer((env) => () => new Response(slowBody(["hello ", "world"], env)), async (env) => {
    for (
      const req of ["GET / HTTP/1.0\r\n\r\n", "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"]
    ) {
      const text = await exchange(env, req);
      assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
      assert.doesNotMatch(text, /transfer-encoding|content-length/i);
      assert.match(text, /\r\nConnection: close\r\n/);
      assert.ok(text.endsWith("\r\n\r\nhello world"), JSON.stringify(text));
    }
  });
});

Deno.test("serve closes a connection whose peer stops reading its response, and shutdown finishes", async () => {
  const big = new Uint8Array(4 << 20);
  await withServer(() => () => new Response(big), async (env, server) => {
    const outcome = await env.run(async () => {
      const conn = await env.client.connect({ hostname: SERVER, port: 80 });
      await writeAll(conn, bytes(`GET / HTTP/1.1\r\nHost: ${SERVER}\r\n\r\n`));
      await delay(env, 100_000); // the response fills the windows; the client never reads
      const start = env.net.now();
      const r = await Promise.race([
        server.shutdown().then(() => "finished"),
        delay(env, 60_000_000).then(() => "hung"),
      ]);
      conn.close();
      return { r, after: env.net.now() - start };
    });
    assert.equal(outcome.r, "finished");
    // No progress for keepAliveTimeout (2 s) closes it (window probes may still take a few bytes).
    assert.ok(outcome.after <= 3_000_000, `shutdown took ${outcome.after} µs`);
  }, { keepAliveTimeout: 2000 });
});

Deno.test("fetch drops Cookie and Proxy-Authorization on a redirect to another origin", async () => {
  await withServiceEnv(makeServiceEnv({ services: [] }), async (env) => {
    const seen: string[] = [];
    const a = env.server.serve(
      { port: 80 },
      () => Response.redirect(`http://${SERVER}:8080/`, 302),
    );
    const b = env.server.serve({ port: 8080 }, (req) => {
      seen.push(`${req.headers.get("cookie")} ${req.headers.get("proxy-authorization")}`);
      return new Response("b");
    });
    await env.run(async () => {
      const headers = { cookie: "session=secret", "proxy-authorization": "Basic x" };
      await (await env.client.fetch(`http://${SERVER}/`, { headers })).text();
    });
    assert.deepEqual(seen, ["null null"]);
    await env.run(() => Promise.all([a.shutdown(), b.shutdown()]));
  });
});

Deno.test("serve ignores Expect: 100-continue from an HTTP/1.0 client (RFC 9110 §10.1.1)", async () => {
  await withServer(() => async (req) => new Response(await req.text()), async (env) => {
    const text = await exchange(
      env,
      "POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi",
    );
    assert.doesNotMatch(text, /100 Continue/);
    assert.match(text, /^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nhi$/);
  });
});

Deno.test("serve counts the head's real bytes: whitespace padding is over maxHeaderSize too", async () => {
  await withServer(() => () => new Response("ok"), async (env) => {
    const pad = " ".repeat(20_000);
    const text = await exchange(env, `GET / HTTP/1.1\r\nHost: ${SERVER}\r\nX-A:${pad}v\r\n\r\n`);
    assert.match(text, /^HTTP\/1\.1 431 /);
    const lines = "\r\n".repeat(20_000); // empty lines before a request line
    const text2 = await exchange(env, `${lines}GET / HTTP/1.1\r\nHost: ${SERVER}\r\n\r\n`);
    assert.match(text2, /^HTTP\/1\.1 (431|400) /);
  }, { maxHeaderSize: 4096 });
});

/** Reads until EOF or an error; says which. */
function exchangeRaw(env: ServiceEnv, text: string): Promise<{ text: string; reset: boolean }> {
  return env.run(async () => {
    const conn = await env.client.connect({ hostname: SERVER, port: 80 });
    await writeAll(conn, bytes(text));
    const buf = new Uint8Array(65536);
    let out = "";
    try {
      for (let n; (n = await conn.read(buf)) !== null;) {
        out += new TextDecoder().decode(buf.subarray(0, n));
      }
      return { text: out, reset: false };
    } catch {
      return { text: out, reset: true };
    } finally {
      try {
        conn.close();
      } catch { /* reset already */ }
    }
  });
}

Deno.test("serve resets the connection when a streamed response body errors mid-way", async () => {
  const failing = (env: ServiceEnv) => () =>
    new Response(
      new ReadableStream({
        async pull(ctl) {
          await delay(env, 1000);
          if (ctl.desiredSize !== null) ctl.enqueue(bytes("part"));
          await delay(env, 1000);
          ctl.error(new Error("the source broke"));
        },
      }),
    );
  await withServer(failing, async (env) => {
    // HTTP/1.0: a close-delimited body; a FIN would make "part" look complete.
    const r10 = await exchangeRaw(env, "GET / HTTP/1.0\r\n\r\n");
    assert.match(r10.text, /^HTTP\/1\.1 200 OK\r\n/);
    assert.equal(r10.reset, true, JSON.stringify(r10));
    const r11 = await exchangeRaw(env, `GET / HTTP/1.1\r\nHost: ${SERVER}\r\n\r\n`);
    assert.doesNotMatch(r11.text, /\r\n0\r\n\r\n$/, "no last chunk");
    assert.equal(r11.reset, true, JSON.stringify(r11));
  });
});

Deno.test("serve answers 500 when a response body errors before its head is sent", async () => {
  const failing = () => () =>
    new Response(
      new ReadableStream({
        start(ctl) {
          ctl.enqueue(bytes("part"));
          ctl.error(new Error("the source broke"));
        },
      }),
    );
  await withServer(failing, async (env) => {
    const r = await exchangeRaw(env, `GET / HTTP/1.1\r\nHost: ${SERVER}\r\n\r\n`);
    assert.match(r.text, /^HTTP\/1\.1 500 /);
  });
});

Deno.test("serve: 10,000 pipelined requests from a client that never reads stay bounded, then close", async () => {
  await withServer(() => () => new Response("x".repeat(1000)), async (env, server) => {
    const one = `GET / HTTP/1.1\r\nHost: ${SERVER}\r\n\r\n`;
    const all = bytes(one.repeat(10_000));
    const seen = await env.run(async () => {
      const conn = await env.client.connect({ hostname: SERVER, port: 80 });
      const writing = writeAll(conn, all).catch(() => "stopped");
      let most = 0;
      for (let i = 0; i < 20; i++) {
        await delay(env, 250_000);
        for (const s of env.server.sockets()) {
          if (s.local.endsWith(":80") && s.state !== "LISTEN") {
            most = Math.max(most, s.recvQ + s.sendQ);
          }
        }
      }
      const closed = (await writing) === "stopped" || server.requests < 10_000;
      conn.close();
      return { most, closed, requests: server.requests };
    });
    // The server reads a request only after answering the one before: what
    // waits sits in TCP's bounded buffers, not in a queue of its own.
    assert.ok(seen.requests < 10_000, `${seen.requests} requests answered`);
    assert.ok(seen.most <= 2 << 20, `${seen.most} bytes queued on the server's socket`);
    assert.ok(seen.closed);
  }, { keepAliveTimeout: 2000 });
});

Deno.test("serve closes a slowloris client dripping its head within keepAliveTimeout of the start", async () => {
  await withServer(() => () => new Response("ok"), async (env) => {
    const r = await env.run(async () => {
      const conn = await env.client.connect({ hostname: SERVER, port: 80 });
      const start = env.net.now();
      const head = bytes(`GET / HTTP/1.1\r\nHost: ${SERVER}\r\nX-Drip: ${"a".repeat(100)}`);
      let sent = 0;
      try {
        for (; sent < head.length; sent++) {
          await writeAll(conn, head.subarray(sent, sent + 1));
          await delay(env, 100_000);
        }
      } catch {
        // reset by the server
      }
      const buf = new Uint8Array(100);
      const got = await conn.read(buf).catch(() => null);
      conn.close();
      return { sent, got, after: env.net.now() - start };
    });
    assert.equal(r.got, null, "closed without an answer");
    assert.ok(r.sent < 40, `the server took ${r.sent} dripped bytes`);
  }, { keepAliveTimeout: 2000 });
});

Deno.test("fetch: hosts names match in any case; a bad address in the table is a TypeError with a cause", async () => {
  await withServer(() => () => new Response("ok"), async (env) => {
    env.client.hosts.set("API.Example", SERVER);
    const text = await env.run(async () => (await env.client.fetch("http://api.example/")).text());
    assert.equal(text, "ok");
    env.client.hosts.set("bad", "10.0.0.999");
    const err = await env.run(() => env.client.fetch("http://bad/").catch((e) => e));
    assert.ok(err instanceof TypeError, String(err));
    assert.ok(err.cause instanceof Error, "has a cause");
    assert.match(err.message, /hosts table/);
  });
});

Deno.test("serve shutdown: an idle keep-alive connection closes at once, an in-flight request finishes with Connection: close", async () => {
  await withServer((env) => async (req) => {
    if (new URL(req.url).pathname === "/slow") await delay(env, 1_000_000);
    return new Response("done");
  }, async (env, server) => {
    const r = await env.run(async () => {
      const idle = await env.client.connect({ hostname: SERVER, port: 80 });
      await writeAll(idle, bytes(`GET / HTTP/1.1\r\nHost: ${SERVER}\r\n\r\n`));
      const buf = new Uint8Array(4096);
      await idle.read(buf); // its response: now it is idle and kept
      const busy = await env.client.connect({ hostname: SERVER, port: 80 });
      await writeAll(busy, bytes(`GET /slow HTTP/1.1\r\nHost: ${SERVER}\r\n\r\n`));
      await delay(env, 100_000);
      const start = env.net.now();
      const done = server.shutdown().then(() => env.net.now() - start);
      const idleEof = await idle.read(buf).then((n) => [n, env.net.now() - start]);
      const busyText = await readAllText(busy);
      idle.close();
      busy.close();
      return { idleEof, busyText, shutdownAfter: await done };
    });
    assert.equal(r.idleEof[0], null, "the idle connection was closed");
    assert.ok(r.idleEof[1]! < 50_000, `idle closed after ${r.idleEof[1]} µs`);
    assert.match(r.busyText, /^HTTP\/1\.1 200 OK\r\n[^]*Connection: close\r\n[^]*\r\n\r\ndone$/);
    assert.ok(r.shutdownAfter >= 900_000 && r.shutdownAfter < 1_100_000, `${r.shutdownAfter} µs`);
  });
});

Deno.test("serve: aborting options.signal shuts the server down (finished settles, the port is free)", async () => {
  await withServiceEnv(makeServiceEnv({ services: [] }), async (env) => {
    const ac = new AbortController();
    const server = env.server.serve({ port: 80, signal: ac.signal }, () => new Response("ok"));
    await env.run(async () => {
      assert.equal(await (await env.client.fetch(`http://${SERVER}/`)).text(), "ok");
      ac.abort();
      await server.finished;
    });
    const again = env.server.serve({ port: 80, signal: AbortSignal.abort() }, () => new Response());
    await env.run(() => again.finished);
  });
});

Deno.test("fetch gives up on a server that sends 1xx interim responses without end", async () => {
  await withServiceEnv(makeServiceEnv({ services: [] }), async (env) => {
    const listener = env.server.listen({ port: 81 });
    const err = await env.run(async () => {
      const serving = (async () => {
        const conn = await listener.accept();
        try {
          for (let i = 0; i < 100_000; i++) {
            await writeAll(conn, bytes("HTTP/1.1 102 Processing\r\n\r\n"));
          }
        } catch {
          // the client gave up and closed
        } finally {
          conn.close();
        }
      })();
      const e = await env.client.fetch(`http://${SERVER}:81/`).catch((e) => e);
      await serving;
      return e;
    });
    listener.close();
    assert.ok(err instanceof TypeError, String(err));
    assert.match(err.message, /1xx/);
  });
});
