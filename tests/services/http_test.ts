/**
 * The HTTP service on the virtual network, as a client speaking raw
 * HTTP/1.1 over the client stack's TCP sees it: the status page (HTML and
 * text), counters.json, keep-alive and pipelining, HEAD, 404, 405, 400 on
 * garbage, 431, 505, `Connection: close`, HTTP/1.0, the idle timeout on the
 * stack clock, and a capture tshark finds clean.
 */
import assert from "node:assert/strict";
import { ms } from "../_harness.ts";
import { assertTsharkClean } from "../_tshark.ts";
import type { TcpConn } from "../../mod.ts";
import {
  bytes,
  delay,
  makeServiceEnv,
  readAllText,
  ResponseReader,
  SERVER,
  type ServiceEnv,
  type ServiceEnvOptions,
  sleep,
  withServiceEnv,
  writeAll,
} from "./_services.ts";

const GET = (path: string, extra = "") => `GET ${path} HTTP/1.1\r\nHost: ${SERVER}\r\n${extra}\r\n`;

/** Runs `body` with a connection to the HTTP server. */
async function withHttp(
  body: (conn: TcpConn, r: ResponseReader, env: ServiceEnv) => Promise<void>,
  options: ServiceEnvOptions = {},
  after?: (env: ServiceEnv) => Promise<void>,
): Promise<void> {
  await withServiceEnv(makeServiceEnv({ services: ["http", "echo"], ...options }), async (env) => {
    await env.run(async () => {
      const conn = await env.client.connect({ hostname: SERVER, port: 80 });
      try {
        await body(conn, new ResponseReader(conn), env);
      } finally {
        try {
          conn.close();
        } catch { /* already closed */ }
      }
    });
    await after?.(env);
  });
}

Deno.test("http GET / is an HTML status page with the socket table and the counters", async () => {
  await withHttp(async (conn, r) => {
    await writeAll(conn, bytes(GET("/", "Accept: text/html,*/*;q=0.8\r\n")));
    const res = await r.next();
    assert.equal(res.status, 200);
    assert.equal(res.fields["content-type"], "text/html; charset=utf-8");
    assert.equal(Number(res.fields["content-length"]), new TextEncoder().encode(res.body).length);
    assert.equal(res.fields["connection"], undefined, "1.1 keeps the connection: no field");
    assert.match(res.body, /^<!DOCTYPE html>/);
    assert.match(res.body, /<h1>deno-netstack<\/h1>/);
    assert.match(res.body, /^LISTEN +0 +128 +\*:80 +\*:\*$/m);
    assert.match(res.body, /^LISTEN +0 +128 +\*:7 /m);
    assert.match(
      res.body,
      /^ESTABLISHED +\d+ +\d+ +\[::ffff:10\.0\.0\.2\]:80 +\[::ffff:10\.0\.0\.1\]:\d+$/m,
    );
    assert.match(res.body, /^http:\n( {2}.*\n)* {2}requests +1$/m);
    assert.match(res.body, /inet 10\.0\.0\.2\/24/);
  });
});

Deno.test("http GET / with Accept: text/plain is the status page as text", async () => {
  await withHttp(async (conn, r) => {
    await writeAll(conn, bytes(GET("/", "Accept: text/plain\r\n")));
    const res = await r.next();
    assert.equal(res.status, 200);
    assert.equal(res.fields["content-type"], "text/plain; charset=utf-8");
    assert.equal(res.fields["vary"], "Accept");
    assert.match(res.body, /^deno-netstack: up 0h 00m 00s$/m);
    assert.match(res.body, /^== TCP sockets\nState +Recv-Q +Send-Q/m);
  });
});

Deno.test("http GET /counters.json is every non-zero counter as one JSON object", async () => {
  await withHttp(async (conn, r) => {
    await writeAll(conn, bytes(GET("/counters.json?x=1")));
    const res = await r.next();
    assert.equal(res.status, 200);
    assert.equal(res.fields["content-type"], "application/json");
    const counters = JSON.parse(res.body) as Record<string, number>;
    assert.equal(counters["http.requests"], 1);
    assert.equal(counters["http.connections"], 1);
    assert.equal(counters["tcp.passive_opens"], 1);
    assert.ok(Object.values(counters).every((v) => typeof v === "number" && v !== 0));
  });
});

Deno.test("http keeps an HTTP/1.1 connection alive: two requests, one connection", async () => {
  await withHttp(async (conn, r, env) => {
    await writeAll(conn, bytes(GET("/counters.json")));
    assert.equal((await r.next()).status, 200);
    await writeAll(conn, bytes(GET("/")));
    assert.equal((await r.next()).status, 200);
    assert.equal(env.counter("tcp.passive_opens"), 1);
    assert.equal(env.counter("http.connections"), 1);
    assert.equal(env.counter("http.requests"), 2);
    assert.deepEqual(
      env.server.sockets().filter((s) => s.local.endsWith(":80") && s.state !== "LISTEN")
        .map((s) => s.state),
      ["ESTABLISHED"],
    );
  });
});

Deno.test("http answers pipelined requests in order", async () => {
  await withHttp(async (conn, r) => {
    await writeAll(conn, bytes(GET("/nope") + GET("/counters.json") + GET("/")));
    assert.deepEqual(
      [(await r.next()).status, (await r.next()).status, (await r.next()).status],
      [404, 200, 200],
    );
  });
});

Deno.test("http HEAD has the Content-Length of GET and no body", async () => {
  await withHttp(async (conn, r) => {
    await writeAll(conn, bytes(GET("/counters.json", "Accept: text/plain\r\n")));
    const get = await r.next();
    await writeAll(conn, bytes(GET("/counters.json").replace("GET", "HEAD")));
    const head = await r.next(true);
    assert.equal(head.status, 200);
    assert.equal(head.body, "");
    // One more request (the counters changed: its own count) proves no body followed HEAD.
    await writeAll(conn, bytes(GET("/nothing")));
    assert.equal((await r.next()).status, 404);
    assert.ok(Number(head.fields["content-length"]) > 0);
    assert.ok(Math.abs(Number(head.fields["content-length"]) - get.body.length) < 40);
  });
});

Deno.test("http unknown path → 404, and the connection stays usable", async () => {
  await withHttp(async (conn, r) => {
    await writeAll(conn, bytes(GET("/missing")));
    const res = await r.next();
    assert.equal(res.status, 404);
    assert.equal(res.body, "Not Found\n");
    await writeAll(conn, bytes(GET("/")));
    assert.equal((await r.next()).status, 200);
  });
});

Deno.test("http POST → 405 with Allow; its body is read and dropped, the connection goes on", async () => {
  await withHttp(async (conn, r, env) => {
    await writeAll(
      conn,
      bytes(`POST / HTTP/1.1\r\nHost: ${SERVER}\r\nContent-Length: 5\r\n\r\nhello`),
    );
    const res = await r.next();
    assert.equal(res.status, 405);
    assert.equal(res.fields["allow"], "GET, HEAD");
    assert.equal(res.fields["connection"], undefined);
    await writeAll(conn, bytes(GET("/nothing")));
    assert.equal((await r.next()).status, 404, "the body did not turn into a request");
    assert.equal(env.counter("http.responses_405"), 1);
    assert.equal(env.counter("http.connections"), 1);
  });
});

Deno.test("http garbage → 400 at once (no waiting for 16 KiB), then closed", async () => {
  await withHttp(async (conn, r, env) => {
    // A TLS ClientHello's first bytes on port 80.
    await writeAll(conn, new Uint8Array([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc]));
    const res = await r.next();
    assert.equal(res.status, 400);
    assert.equal(res.fields["connection"], "close");
    await conn.closeWrite();
    assert.ok(await r.ended());
    assert.equal(env.counter("http.responses_400"), 1);
  });
});

Deno.test("http malformed request heads → 400 and close", async () => {
  for (
    const head of [
      "GET / HTTP/1.1\r\n\r\n", // no Host
      `GET / HTTP/1.1\r\nHost : ${SERVER}\r\n\r\n`, // space before the colon
      `GET / HTTP/1.1\r\nHost: ${SERVER}\r\n folded\r\n\r\n`, // obsolete folding
      `GET / HTTP/1.1\r\nHost: ${SERVER}\r\nContent-Length: 1, 2\r\n\r\n`,
      `GET / HTTP/1.1\r\nHost: ${SERVER}\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n`,
      "GET /\r\n\r\n", // HTTP/0.9
      "GET  / HTTP/1.1\r\n\r\n",
    ]
  ) {
    await withHttp(async (conn, r) => {
      await writeAll(conn, bytes(head));
      const res = await r.next();
      assert.equal(res.status, 400, JSON.stringify(head));
      await conn.closeWrite();
      assert.ok(await r.ended(), JSON.stringify(head));
    });
  }
});

Deno.test("http a request head over 16 KiB → 431, then closed", async () => {
  await withHttp(async (conn, r) => {
    await writeAll(conn, bytes(GET("/", `X-Big: ${"a".repeat(17_000)}\r\n`)));
    const res = await r.next();
    assert.equal(res.status, 431);
    assert.equal(res.fields["connection"], "close");
  });
});

Deno.test("http HTTP/2.0 request line → 505", async () => {
  await withHttp(async (conn, r) => {
    await writeAll(conn, bytes(`GET / HTTP/2.0\r\nHost: ${SERVER}\r\n\r\n`));
    assert.equal((await r.next()).status, 505);
  });
});

Deno.test("http Connection: close → the response says close and the server closes", async () => {
  await withHttp(async (conn, r, env) => {
    await writeAll(conn, bytes(GET("/", "Connection: close\r\n")));
    const res = await r.next();
    assert.equal(res.status, 200);
    assert.equal(res.fields["connection"], "close");
    assert.ok(await r.ended(), "FIN after the response");
    await conn.closeWrite();
    await delay(env, ms(10));
    assert.deepEqual(
      env.server.sockets().filter((s) => s.local.endsWith(":80")).map((s) => s.state),
      ["LISTEN", "TIME-WAIT"],
      "the server closed first",
    );
  });
});

Deno.test("http HTTP/1.0 closes after the response unless Connection: keep-alive", async () => {
  await withHttp(async (conn, r) => {
    await writeAll(conn, bytes("GET /counters.json HTTP/1.0\r\n\r\n"));
    const res = await r.next();
    assert.equal(res.statusLine.startsWith("HTTP/1.1 200"), true);
    assert.equal(res.fields["connection"], "close");
    assert.ok(await r.ended());
  });
  await withHttp(async (conn, r) => {
    await writeAll(conn, bytes("GET /counters.json HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
    const res = await r.next();
    assert.equal(res.fields["connection"], "keep-alive");
    await writeAll(conn, bytes("HEAD / HTTP/1.0\r\n\r\n"));
    const second = await r.next(true);
    assert.equal(second.fields["connection"], "close");
    assert.ok(await r.ended());
  });
});

Deno.test("http closes an idle keep-alive connection after keepAliveTimeoutMs of stack time", async () => {
  await withServiceEnv(makeServiceEnv({ services: ["http"] }), async (env) => {
    const conn = await env.run(() => env.client.connect({ hostname: SERVER, port: 80 }));
    const r = new ResponseReader(conn);
    await env.run(async () => {
      await writeAll(conn, bytes(GET("/counters.json")));
      assert.equal((await r.next()).status, 200);
    });
    await sleep(env, ms(4_900));
    const open = () =>
      env.server.sockets().filter((s) => s.local.endsWith(":80") && s.state === "ESTABLISHED");
    assert.equal(open().length, 1, "still open before the timeout");
    const end = await env.run(() => readAllText(conn));
    assert.equal(end, "", "then the server closes it");
    assert.ok(env.net.now() >= ms(5_000));
    assert.equal(env.counter("http.keepalive_timeouts"), 1);
    conn.close();
  });
});

Deno.test("http keepAliveTimeoutMs also bounds a client that sends half a request head", async () => {
  await withServiceEnv(
    makeServiceEnv({ services: ["http"], options: { http: { keepAliveTimeoutMs: 1000 } } }),
    async (env) => {
      const text = await env.run(async () => {
        const conn = await env.client.connect({ hostname: SERVER, port: 80 });
        await writeAll(conn, bytes("GET / HTTP/1.1\r\nHost: x"));
        const t = await readAllText(conn);
        conn.close();
        return t;
      });
      assert.equal(text, "");
      assert.equal(env.counter("http.keepalive_timeouts"), 1);
    },
  );
});

Deno.test("http serves 40 keep-alive requests under 5% loss and reordering; capture clean", async () => {
  await withHttp(async (conn, r) => {
    for (let i = 0; i < 40; i++) {
      await writeAll(conn, bytes(GET(i % 2 === 0 ? "/" : "/counters.json")));
      assert.equal((await r.next()).status, 200);
    }
  }, { faults: { loss: 0.05, reorder: 0.05, delay: ms(3), jitter: ms(1) }, seed: 4 });
  await withHttp(
    async (conn, r, env) => {
      for (const path of ["/", "/counters.json", "/x"]) {
        await writeAll(conn, bytes(GET(path)));
        await r.next();
      }
      await writeAll(conn, bytes(GET("/", "Connection: close\r\n")));
      await r.next();
      assert.ok(await r.ended());
      await conn.closeWrite();
      await delay(env, ms(100));
    },
    { capture: true },
    async (env) => {
      await assertTsharkClean(env.capture!.bytes());
    },
  );
});
