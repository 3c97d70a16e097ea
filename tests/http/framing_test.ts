/**
 * Framing llhttp's wasm build leaves to us (issue #20 follow-ups): a byte
 * limit on chunk extensions (a peer sending megabytes of them is cut off
 * with 413, as Node.js does), and request lines naming another protocol
 * than HTTP (`RTSP/1.0`, `ICE/1.0`, which llhttp accepts as 1.0) refused
 * with 400. The parser-level cases are in `stack/http/llhttp_test.ts`.
 */
import assert from "node:assert/strict";
import {
  bytes,
  delay,
  makeServiceEnv,
  SERVER,
  type ServiceEnv,
  withServiceEnv,
  writeAll,
} from "../services/_services.ts";
import { exchange, withHttpServer as withServer } from "./_http.ts";

const decoder = new TextDecoder();

Deno.test("serve cuts off a client sending megabytes of chunk extension with 413", async () => {
  let bodies = 0;
  const handler = () => async (req: Request) => {
    await req.arrayBuffer();
    bodies++;
    return new Response("read it all");
  };
  await withServer(handler, async (env) => {
    const r = await env.run(async () => {
      const conn = await env.client.connect({ hostname: SERVER, port: 80 });
      const head = `POST / HTTP/1.1\r\nHost: ${SERVER}\r\nTransfer-Encoding: chunked\r\n\r\n5;a=`;
      await writeAll(conn, bytes(head));
      let answer = "";
      const reading = (async () => {
        const buf = new Uint8Array(4096);
        for (let n; (n = await conn.read(buf)) !== null;) {
          answer += decoder.decode(buf.subarray(0, n));
        }
      })().catch(() => {});
      const piece = bytes("x".repeat(4096));
      let sent = 0;
      try {
        // 4 MiB of one extension value, never a CRLF, a piece at a time
        // (each delivered before the next), until the server answers.
        while (sent < 4 << 20 && answer === "") {
          await writeAll(conn, piece);
          sent += piece.length;
          await delay(env, 2000);
        }
      } catch {
        // reset by the server
      }
      await reading;
      conn.close();
      return { answer, sent };
    });
    assert.match(r.answer, /^HTTP\/1\.1 413 /);
    assert.match(r.answer, /chunk extensions are over 16384 bytes/);
    assert.equal(bodies, 0);
    // Answered at the piece that crossed 16 KiB, not after the 4 MiB.
    assert.ok(r.sent <= 16384 + 2 * 4096, `the client sent ${r.sent} bytes before the answer`);
  });
});

Deno.test("serve takes chunk extensions under the limit and gives the handler the data", async () => {
  await withServer(() => async (req) => new Response(await req.text()), async (env) => {
    const ext = `;name="${"v".repeat(1000)}"`;
    const chunks = ["hello ", "chunked ", "world"].map((c) =>
      `${c.length.toString(16)}${ext}\r\n${c}\r\n`
    ).join("");
    const text = await exchange(
      env,
      `POST / HTTP/1.1\r\nHost: ${SERVER}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n` +
        `${chunks}0${ext}\r\n\r\n`,
    );
    assert.match(text, /^HTTP\/1\.1 200 /);
    assert.match(text, /hello chunked world$/);
  });
});

Deno.test("serve refuses RTSP/1.0 and ICE/1.0 request lines with 400, not as HTTP/1.0", async () => {
  let calls = 0;
  await withServer(() => () => {
    calls++;
    return new Response("ok");
  }, async (env) => {
    for (const line of ["OPTIONS * RTSP/1.0", "GET / RTSP/1.0", "SOURCE /mount ICE/1.0"]) {
      const text = await exchange(env, `${line}\r\nHost: ${SERVER}\r\nCSeq: 1\r\n\r\n`);
      assert.match(text, /^HTTP\/1\.1 400 /, line);
      assert.match(text, /names (RTSP|ICE)\/1\.0, not HTTP/, line);
    }
    const ok = await exchange(env, `GET / HTTP/1.0\r\nHost: ${SERVER}\r\n\r\n`);
    assert.match(ok, /^HTTP\/1\.1 200 /);
  });
  assert.equal(calls, 1);
});

/** What `fetch` makes of a server on port 81 that answers every request with `answer`. */
async function fetchFromRaw(env: ServiceEnv, answer: string): Promise<unknown> {
  const listener = env.server.listen({ port: 81 });
  try {
    return await env.run(async () => {
      const serving = (async () => {
        const conn = await listener.accept();
        try {
          await writeAll(conn, bytes(answer));
          await conn.closeWrite();
          const sink = new Uint8Array(4096);
          while ((await conn.read(sink)) !== null) { /* until the client closes */ }
        } catch {
          // the client reset the connection
        } finally {
          conn.close();
        }
      })();
      const r = await env.client.fetch(`http://${SERVER}:81/`)
        .then((res) => res.text())
        .catch((e) => e);
      await serving;
      return r;
    });
  } finally {
    listener.close();
  }
}

Deno.test("fetch refuses an RTSP status line and a response body with 20 KiB of chunk extensions", async () => {
  await withServiceEnv(makeServiceEnv({ services: [] }), async (env) => {
    const rtsp = await fetchFromRaw(
      env,
      "RTSP/1.0 200 OK\r\nCSeq: 1\r\nContent-Length: 2\r\n\r\nhi",
    );
    assert.ok(rtsp instanceof TypeError, String(rtsp));
    assert.ok(rtsp.cause instanceof Deno.errors.InvalidData, String(rtsp.cause));
    const head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    const ext = await fetchFromRaw(env, `${head}2;x=${"e".repeat(20480)}\r\nhi\r\n0\r\n\r\n`);
    assert.ok(ext instanceof TypeError, String(ext));
    assert.match(String(ext.cause), /chunk extensions are over 16384 bytes/);
    const fine = await fetchFromRaw(env, `${head}2;x=${"e".repeat(1000)}\r\nhi\r\n0\r\n\r\n`);
    assert.equal(fine, "hi");
  });
});
