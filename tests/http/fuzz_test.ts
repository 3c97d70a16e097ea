/**
 * Fuzzed request parsing (fast-check, fixed seeds): the llhttp parser with
 * our limits, fed hostile bytes in random splits, never throws, keeps its
 * events in order, answers only 400/414/431 and keeps its memory bounded;
 * `stack.serve()` answers mutated requests over the virtual network with
 * 200, 400, 413, 414, 431 or 505 only, nothing escapes as a fault, and it
 * still serves a plain request afterwards.
 */
import assert from "node:assert/strict";
import fc from "npm:fast-check@3.23.2";
import { HttpParser, llhttpMemoryBytes, type ParserEvent } from "../../stack/http/llhttp.ts";
import {
  bytes,
  makeServiceEnv,
  readAllText,
  SERVER,
  withServiceEnv,
  writeAll,
} from "../services/_services.ts";

const LIMITS = { maxHeadBytes: 2048, maxFields: 32 };
const VALID = [
  `GET / HTTP/1.1\r\nHost: ${SERVER}\r\n\r\n`,
  `POST /p?q=1 HTTP/1.1\r\nHost: ${SERVER}\r\nContent-Length: 5\r\n\r\nhello`,
  `PUT /c HTTP/1.1\r\nHost: ${SERVER}\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n0\r\nT: 1\r\n\r\n`,
  `HEAD /h HTTP/1.0\r\nConnection: keep-alive\r\n\r\n`,
];
/** Bytes that matter to HTTP framing, to splice into requests. */
const SPECIAL = [..."\r\n :;,\t0123456789abcdefABCDEF\x00\x7f\x80\xff-"].map((c) =>
  c.charCodeAt(0)
);

/** A valid request with random edits: bytes replaced, inserted, deleted, fields repeated. */
const mutated = fc.tuple(
  fc.constantFrom(...VALID),
  fc.array(
    fc.tuple(
      fc.constantFrom("replace", "insert", "delete", "field"),
      fc.nat(),
      fc.oneof(fc.constantFrom(...SPECIAL), fc.integer({ min: 0, max: 255 })),
    ),
    { maxLength: 6 },
  ),
).map(([base, edits]) => {
  const b = [...new TextEncoder().encode(base)];
  for (const [op, at, byte] of edits) {
    const i = at % (b.length + 1);
    if (op === "replace" && i < b.length) b[i] = byte;
    else if (op === "insert") b.splice(i, 0, byte);
    else if (op === "delete") b.splice(i, 1);
    else if (op === "field") {
      const field = new TextEncoder().encode(
        ["Content-Length: 3\r\n", "Transfer-Encoding: chunked\r\n", "Host: x\r\n", "X: y\r\n"][
          byte % 4
        ]!,
      );
      const line = base.indexOf("\r\n") + 2;
      b.splice(line, 0, ...field);
    }
  }
  return new Uint8Array(b);
});

const anyBytes = fc.oneof(
  mutated,
  fc.uint8Array({ maxLength: 300 }),
  // A head over the limit, or a huge declared body.
  fc.nat({ max: 6000 }).map((n) =>
    new TextEncoder().encode(`GET / HTTP/1.1\r\nHost: x\r\nX: ${"a".repeat(n)}\r\n\r\n`)
  ),
);

/** Feeds `input` split at `cuts`; returns the events and the error, if any. */
function parse(input: Uint8Array, cuts: number[]): {
  events: ParserEvent[];
  status: number | undefined;
} {
  const p = new HttpParser("request", LIMITS);
  const events: ParserEvent[] = [];
  let status: number | undefined;
  try {
    const points = [...new Set(cuts.map((c) => c % (input.length + 1)))].sort((a, b) => a - b);
    let off = 0;
    let rest: Uint8Array = new Uint8Array(0);
    for (const end of [...points, input.length]) {
      let piece: Uint8Array = new Uint8Array([...rest, ...input.subarray(off, end)]);
      off = end;
      rest = new Uint8Array(0);
      for (;;) {
        const r = p.feed(piece);
        events.push(...p.take());
        if (r.error !== undefined) return { events, status: r.error.status };
        if (!r.paused) break;
        p.resume();
        piece = piece.subarray(r.consumed);
        if (piece.length === 0) break;
      }
    }
    status = p.finish()?.status;
    events.push(...p.take());
    return { events, status };
  } finally {
    p.free();
  }
}

Deno.test("llhttp with our limits: hostile bytes in random splits never throw; events in order; 400/414/431 only; memory bounded", () => {
  fc.assert(
    fc.property(anyBytes, fc.array(fc.nat(), { maxLength: 5 }), (input, cuts) => {
      const { events, status } = parse(input, cuts);
      if (status !== undefined) assert.ok([400, 414, 431].includes(status), `status ${status}`);
      // Each message: head, bodies, end.
      let inMessage = false;
      for (const e of events) {
        if (e.kind === "head") {
          assert.ok(!inMessage, "a head inside a message");
          inMessage = true;
        } else if (e.kind === "body") assert.ok(inMessage, "a body outside a message");
        else {
          assert.ok(inMessage, "an end outside a message");
          inMessage = false;
        }
      }
      // A head over the limit is never handed out.
      for (const e of events) {
        if (e.kind !== "head") continue;
        const size = e.head.target.length +
          e.head.fields.reduce((n, [k, v]) => n + k.length + v.length, 0);
        assert.ok(size <= LIMITS.maxHeadBytes, `a head of ${size} bytes`);
        assert.ok(e.head.fields.length <= LIMITS.maxFields);
      }
    }),
    { seed: 20, numRuns: 3000 },
  );
  assert.ok(llhttpMemoryBytes() <= 4 << 20, `llhttp holds ${llhttpMemoryBytes()} bytes`);
});

Deno.test("llhttp answers the limits: a field over the head limit is 431, a target over it 414", () => {
  fc.assert(
    fc.property(fc.integer({ min: LIMITS.maxHeadBytes + 1, max: 20_000 }), (n) => {
      const field = new TextEncoder().encode(
        `GET / HTTP/1.1\r\nHost: x\r\nX: ${"a".repeat(n)}\r\n\r\n`,
      );
      assert.equal(parse(field, [n % 97, n % 1013]).status, 431);
      const target = new TextEncoder().encode(`GET /${"a".repeat(n)} HTTP/1.1\r\nHost: x\r\n\r\n`);
      assert.equal(parse(target, [n % 89]).status, 414);
    }),
    { seed: 21, numRuns: 100 },
  );
});

Deno.test("serve answers fuzzed requests with 200/400/413/414/431/505 only and keeps serving", async () => {
  const cases = fc.sample(
    fc.oneof(
      mutated,
      fc.uint8Array({ minLength: 1, maxLength: 200 }),
      fc.nat({ max: 100_000 }).map((n) =>
        new TextEncoder().encode(`POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ${n}\r\n\r\n`)
      ),
    ),
    { seed: 22, numRuns: 150 },
  );
  await withServiceEnv(makeServiceEnv({ services: [] }), async (env) => {
    let handled = 0;
    const server = env.server.serve(
      { port: 80, maxHeaderSize: 2048, maxBodySize: 50_000, keepAliveTimeout: 200 },
      async (req) => {
        handled++;
        await req.arrayBuffer();
        return new Response("ok");
      },
    );
    const seen = new Map<number, number>();
    await env.run(async () => {
      for (const input of cases) {
        const conn = await env.client.connect({ hostname: SERVER, port: 80 });
        await writeAll(conn, input);
        const text = await readAllText(conn); // the server closes: error, or idle timeout
        conn.close();
        for (const m of text.matchAll(/HTTP\/1\.1 (\d{3}) /g)) {
          const status = Number(m[1]);
          seen.set(status, (seen.get(status) ?? 0) + 1);
        }
      }
      const conn = await env.client.connect({ hostname: SERVER, port: 80 });
      await writeAll(conn, bytes(`GET / HTTP/1.1\r\nHost: ${SERVER}\r\nConnection: close\r\n\r\n`));
      assert.match(await readAllText(conn), /^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nok$/);
      conn.close();
    });
    for (const status of seen.keys()) {
      assert.ok([200, 400, 413, 414, 431, 505].includes(status), `status ${status}`);
    }
    assert.ok((seen.get(400) ?? 0) > 20, `some 400s: ${[...seen]}`);
    assert.ok((seen.get(413) ?? 0) > 5, `some 413s: ${[...seen]}`);
    assert.ok(handled > 0);
    assert.equal(env.server.counters.value("dispatcher.plugin_fault"), 0);
    await env.run(() => server.shutdown());
  });
});
