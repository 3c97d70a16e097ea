/**
 * `stack.serve()` as a raw HTTP/1.1 client sees it over the client stack's
 * TCP: pipelining answered in order, HTTP/1.0, HEAD, chunked request bodies
 * with extensions and trailers, `Expect: 100-continue`, the limits (431,
 * 414, 413), smuggling shapes refused with 400, a handler that throws, and
 * the idle timeout on the stack clock.
 */
import assert from "node:assert/strict";
import {
  bytes,
  delay,
  makeServiceEnv,
  readAllText,
  SERVER,
  withServiceEnv,
  writeAll,
} from "../services/_services.ts";
import { exchange, type ServerBody, withHttpServer } from "./_http.ts";
import type { ServeHandler, ServeOptions, TcpConn } from "../../mod.ts";

const echo: ServeHandler = async (req) => {
  const body = req.body === null ? "" : await req.text();
  return new Response(`${req.method} ${new URL(req.url).pathname} ${body}`);
};

function withServer(
  body: ServerBody,
  options: ServeOptions = {},
  handler: ServeHandler = echo,
): Promise<void> {
  return withHttpServer(() => handler, body, options);
}

/** Status codes of the responses in `text`, in order. */
function statuses(text: string): number[] {
  return [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
}

const H = `Host: ${SERVER}\r\n`;

Deno.test("serve answers pipelined requests in order on one connection", async () => {
  await withServer(async (env, server) => {
    const text = await exchange(
      env,
      `GET /a HTTP/1.1\r\n${H}\r\n` +
        `POST /b HTTP/1.1\r\n${H}Content-Length: 5\r\n\r\nhello` +
        `GET /c HTTP/1.1\r\n${H}Connection: close\r\n\r\n`,
    );
    assert.deepEqual(statuses(text), [200, 200, 200]);
    assert.deepEqual([...text.matchAll(/\r\n\r\n([A-Z]+ \/[a-z] [a-z]*)/g)].map((m) => m[1]), [
      "GET /a ",
      "POST /b hello",
      "GET /c ",
    ]);
    assert.match(text, /Connection: close\r\n[^]*\r\n\r\nGET \/c $/);
    assert.equal(server.connections, 1);
  });
});

Deno.test("serve: HTTP/1.0 closes unless keep-alive; HEAD has the length but no body", async () => {
  await withServer(async (env) => {
    const t10 = await exchange(env, "GET /x HTTP/1.0\r\n\r\n");
    assert.match(t10, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(t10, /\r\nconnection: close\r\n|\r\nConnection: close\r\n/);
    const head = await exchange(env, `HEAD /x HTTP/1.1\r\n${H}Connection: close\r\n\r\n`);
    assert.match(head, /\r\nContent-Length: 8\r\n/); // "HEAD /x "
    assert.ok(head.endsWith("\r\n\r\n"), "no body after the head");
    const ka = await exchange(
      env,
      "GET /1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /2 HTTP/1.0\r\n\r\n",
    );
    assert.deepEqual(statuses(ka), [200, 200]);
    assert.match(ka, /Connection: keep-alive\r\n/);
  });
});

Deno.test("serve reads a chunked request body with extensions and trailers", async () => {
  await withServer(async (env) => {
    const text = await exchange(
      env,
      `POST /up HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n` +
        `5;name=value\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n`,
    );
    assert.deepEqual(statuses(text), [200]);
    assert.match(text, /\r\n\r\nPOST \/up hello world$/);
  });
});

Deno.test("serve answers Expect: 100-continue when the handler reads the body", async () => {
  await withServer(async (env) => {
    const text = await env.run(async () => {
      const conn = await env.client.connect({ hostname: SERVER, port: 80 });
      await writeAll(
        conn,
        bytes(
          `PUT /p HTTP/1.1\r\n${H}Content-Length: 4\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n`,
        ),
      );
      const interim = await readSome(conn);
      assert.equal(interim, "HTTP/1.1 100 Continue\r\n\r\n");
      await writeAll(conn, bytes("data"));
      const rest = await readAllText(conn);
      conn.close();
      return rest;
    });
    assert.match(text, /^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nPUT \/p data$/);
  });
});

Deno.test("serve does not ask for a body it will not read: 100-continue unanswered, then close", async () => {
  await withServer(
    async (env) => {
      const text = await exchange(
        env,
        `PUT /p HTTP/1.1\r\n${H}Content-Length: 4\r\nExpect: 100-continue\r\n\r\n`,
      );
      assert.doesNotMatch(text, /100 Continue/);
      assert.match(text, /^HTTP\/1\.1 403 Forbidden\r\n[^]*Connection: close\r\n/);
    },
    {},
    () => new Response("no", { status: 403 }),
  );
});

async function readSome(conn: TcpConn): Promise<string> {
  const buf = new Uint8Array(4096);
  const n = await conn.read(buf);
  return new TextDecoder().decode(buf.subarray(0, n ?? 0));
}

Deno.test("serve limits: a big head is 431, a long target 414, many fields 431, a big body 413", async () => {
  await withServer(async (env) => {
    const bigField = `GET / HTTP/1.1\r\n${H}X-Big: ${"a".repeat(2000)}\r\n\r\n`;
    assert.deepEqual(statuses(await exchange(env, bigField)), [431]);
    const longTarget = `GET /${"a".repeat(2000)} HTTP/1.1\r\n${H}\r\n`;
    assert.deepEqual(statuses(await exchange(env, longTarget)), [414]);
    const fields = Array.from({ length: 30 }, (_, i) => `X-${i}: ${i}\r\n`).join("");
    assert.deepEqual(statuses(await exchange(env, `GET / HTTP/1.1\r\n${H}${fields}\r\n`)), [431]);
    const declared = `POST / HTTP/1.1\r\n${H}Content-Length: 5000\r\n\r\n`;
    assert.deepEqual(statuses(await exchange(env, declared)), [413]);
    const chunked = `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n` +
      `800\r\n${"x".repeat(0x800)}\r\n`.repeat(3) + "0\r\n\r\n";
    assert.deepEqual(statuses(await exchange(env, chunked)), [413]);
  }, { maxHeaderSize: 1024, maxHeaderCount: 20, maxBodySize: 4096 });
});

Deno.test("serve refuses request smuggling shapes with 400 and closes", async () => {
  const cases: Record<string, string> = {
    "Content-Length and Transfer-Encoding":
      `POST / HTTP/1.1\r\n${H}Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
    "two different Content-Lengths":
      `POST / HTTP/1.1\r\n${H}Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd`,
    "Transfer-Encoding not ending in chunked":
      `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n`,
    "whitespace before the colon": `GET / HTTP/1.1\r\n${H}Content-Length : 0\r\n\r\n`,
    "obsolete line folding": `GET / HTTP/1.1\r\n${H}X-A: 1\r\n 2\r\n\r\n`,
    "a bad chunk size": `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nzz\r\n`,
    "no Host in HTTP/1.1": "GET / HTTP/1.1\r\n\r\n",
    "two Hosts": `GET / HTTP/1.1\r\n${H}${H}\r\n`,
    "a TLS hello": "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
  };
  await withServer(
    async (env, server) => {
      for (const [what, text] of Object.entries(cases)) {
        const out = await exchange(env, text);
        assert.deepEqual(statuses(out), [400], `${what}: ${JSON.stringify(out.slice(0, 80))}`);
      }
      // llhttp refuses the others in the head; these three have a head a Request can be made of.
      assert.equal(server.requests, 3, "Host cases and the bad chunk reached the request stage");
    },
    {},
    async (req) => {
      await req.arrayBuffer().catch(() => {}); // the bad chunk fails this read
      throw new Error("no smuggled request may get an answer from the handler");
    },
  );
});

Deno.test("serve turns a throwing handler into 500, or into what onError makes", async () => {
  const boom: ServeHandler = () => {
    throw new Error("boom");
  };
  await withServer(
    async (env) => {
      const text = await exchange(env, `GET / HTTP/1.1\r\n${H}Connection: close\r\n\r\n`);
      assert.deepEqual(statuses(text), [500]);
    },
    {},
    boom,
  );
  await withServer(
    async (env) => {
      const text = await exchange(env, `GET / HTTP/1.1\r\n${H}Connection: close\r\n\r\n`);
      assert.deepEqual(statuses(text), [503]);
      assert.match(text, /\r\n\r\nsorry: boom$/);
    },
    { onError: (e) => new Response(`sorry: ${(e as Error).message}`, { status: 503 }) },
    boom,
  );
});

Deno.test("serve closes a connection idle for keepAliveTimeout on the stack clock", async () => {
  await withServer(async (env) => {
    const closedAt = await env.run(async () => {
      const conn = await env.client.connect({ hostname: SERVER, port: 80 });
      const start = env.net.now();
      await writeAll(conn, bytes(`GET / HTTP/1.1\r\n${H}\r\n`));
      await readAllText(conn); // ends when the server closes
      conn.close();
      return env.net.now() - start;
    });
    assert.ok(closedAt >= 2_000_000 && closedAt < 2_100_000, `closed after ${closedAt} µs`);
    await env.run(() => delay(env, 1));
  }, { keepAliveTimeout: 2000 });
});

Deno.test("serve validates its options before listening", async () => {
  await withServiceEnv(makeServiceEnv({ services: [] }), (env) => {
    assert.throws(() => env.server.serve({ port: 80, maxBodySize: -1 }, echo), RangeError);
    assert.throws(() => env.server.serve({ port: 80, keepAliveTimeout: NaN }, echo), TypeError);
    assert.throws(() => env.server.serve({ port: 80 }, "x" as unknown as ServeHandler), TypeError);
    assert.deepEqual(
      env.server.sockets().filter((s) => s.state === "LISTEN" && s.local.endsWith(":80")),
      [],
    );
  });
});

Deno.test("serve closes connections over maxConnections unserved and counts them", async () => {
  await withServer(async (env, server) => {
    const [first, second] = await env.run(async () => {
      const a = await env.client.connect({ hostname: SERVER, port: 80 });
      await writeAll(a, bytes(`GET /a HTTP/1.1\r\n${H}\r\n`)); // kept alive: holds the one slot
      const b = await env.client.connect({ hostname: SERVER, port: 80 });
      const refused = await readAllText(b);
      b.close();
      await writeAll(a, bytes(`GET /b HTTP/1.1\r\n${H}Connection: close\r\n\r\n`));
      const served = await readAllText(a);
      a.close();
      return [served, refused];
    });
    assert.deepEqual(statuses(first), [200, 200]);
    assert.equal(second, "");
    assert.equal(server.rejected, 1);
    assert.equal(server.connections, 2);
  }, { maxConnections: 1 });
});
