/**
 * `stack.serve()` and `stack.fetch()` on the virtual network, with faults:
 * JSON requests over a lossy, reordering, delaying link on one kept-alive
 * connection (seen in the capture, HTTP decoded by tshark without errors),
 * 10 MiB each way checked by SHA-256, an aborted request closing its
 * connection, a shutdown with requests in flight, a partition that heals,
 * and the same bytes on the wire for the same seed.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  CLIENT,
  delay,
  makeServiceEnv,
  randomChunks,
  SERVER,
  type ServiceEnv,
  type ServiceEnvOptions,
  withServiceEnv,
} from "../services/_services.ts";
import { assertTsharkClean, runTshark, tsharkUnavailable } from "../_tshark.ts";
import { cannotCheck } from "../_require.ts";
import type { HttpServer, ServeHandler } from "../../mod.ts";

const FAULTY = { loss: 0.02, reorder: 0.02, delay: 2_000, jitter: 500 } as const;

/** Client and server stacks; the server serves `handler` on port 80. */
async function withHttp(
  options: ServiceEnvOptions,
  handler: ServeHandler,
  body: (env: ServiceEnv, server: HttpServer) => Promise<void>,
): Promise<void> {
  await withServiceEnv(makeServiceEnv({ services: [], ...options }), async (env) => {
    const server = env.server.serve({ port: 80, maxBodySize: 32 << 20 }, handler);
    try {
      await body(env, server);
    } finally {
      await env.run(() => server.shutdown());
    }
  });
}

/** A stream of `total` deterministic bytes (seeded), 64 KiB a chunk. */
function randomStream(seed: number, total: number): ReadableStream<Uint8Array> {
  const it = randomChunks(seed, total);
  return new ReadableStream({
    pull(ctl) {
      const n = it.next();
      if (n.done) ctl.close();
      else ctl.enqueue(n.value);
    },
  });
}

function sha256Of(seed: number, total: number): string {
  const h = createHash("sha256");
  for (const c of randomChunks(seed, total)) h.update(c);
  return h.digest("hex");
}

async function sha256Stream(body: ReadableStream<Uint8Array>): Promise<[number, string]> {
  const h = createHash("sha256");
  let n = 0;
  for await (const c of body) {
    h.update(c);
    n += c.length;
  }
  return [n, h.digest("hex")];
}

/** Fields of the frames tshark matches with `filter`, one line each. */
async function tsharkLines(
  capture: Uint8Array,
  filter: string,
  fields: string[],
): Promise<string[]> {
  const out = await runTshark(capture, [
    "-Y",
    filter,
    "-T",
    "fields",
    ...fields.flatMap((f) => ["-e", f]),
  ]);
  return out.split("\n").filter((l) => l !== "");
}

async function tsharkOrSkip(): Promise<boolean> {
  const why = await tsharkUnavailable();
  if (why === undefined) return true;
  cannotCheck("the capture with tshark", why);
  return false;
}

const jsonService: ServeHandler = async (req) => {
  const url = new URL(req.url);
  if (req.method === "POST" && url.pathname === "/sum") {
    const { a, b } = await req.json() as { a: number; b: number };
    return Response.json({ sum: a + b });
  }
  return Response.json({ error: "not found" }, { status: 404 });
};

Deno.test("http: 100 JSON requests over loss, reorder and delay share one connection; tshark decodes them", async () => {
  await withHttp({ faults: FAULTY, capture: true, seed: 3 }, jsonService, async (env, server) => {
    const sums = await env.run(async () => {
      const out: number[] = [];
      for (let i = 0; i < 100; i++) {
        const res = await env.client.fetch(`http://${SERVER}/sum`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ a: i, b: 1000 }),
        });
        assert.equal(res.status, 200);
        assert.equal(res.headers.get("content-type"), "application/json");
        out.push(((await res.json()) as { sum: number }).sum);
      }
      return out;
    });
    assert.deepEqual(sums, Array.from({ length: 100 }, (_, i) => i + 1000));
    assert.equal(server.requests, 100);
    assert.equal(server.connections, 1, "keep-alive: one connection for 100 requests");
    const lost = env.link.stats("a->b").dropped.loss + env.link.stats("b->a").dropped.loss;
    assert.ok(lost > 0, "the link lost frames");
    if (!(await tsharkOrSkip())) return;
    const capture = env.capture!.bytes();
    // D-SACK (RFC 2883): the receiver reporting a duplicate after loss and reordering.
    await assertTsharkClean(capture, {
      allowWarnings: [/^Connection establish request/, /^D-SACK Sequence$/],
    });
    const syns = await tsharkLines(capture, "tcp.flags.syn == 1 && tcp.flags.ack == 0", [
      "tcp.srcport",
    ]);
    assert.equal(new Set(syns).size, 1, `one client port in the SYNs: ${syns.join(",")}`);
    const requests = await tsharkLines(capture, "http.request", [
      "http.request.method",
      "http.request.uri",
    ]);
    assert.equal(requests.length, 100);
    assert.ok(requests.every((l) => l === "POST\t/sum"));
    const responses = await tsharkLines(capture, "http.response", ["http.response.code"]);
    assert.equal(responses.length, 100);
  });
});

Deno.test("http: a 10 MiB download and a 10 MiB upload, chunked, arrive whole (SHA-256) over loss", async () => {
  const size = 10 << 20;
  const handler: ServeHandler = async (req) => {
    if (req.method === "GET") return new Response(randomStream(7, size));
    const [n, hash] = await sha256Stream(req.body!);
    return Response.json({ n, hash });
  };
  await withHttp({ faults: { loss: 0.005, delay: 1_000 } }, handler, async (env) => {
    const [down, up] = await env.run(async () => {
      const res = await env.client.fetch(`http://${SERVER}/big`);
      assert.equal(res.headers.get("transfer-encoding"), "chunked");
      const down = await sha256Stream(res.body!);
      const post = await env.client.fetch(`http://${SERVER}/up`, {
        method: "POST",
        body: randomStream(8, size),
      });
      return [down, await post.json() as { n: number; hash: string }];
    });
    assert.deepEqual(down, [size, sha256Of(7, size)]);
    assert.deepEqual(up, { n: size, hash: sha256Of(8, size) });
  });
});

Deno.test("http: an aborted request rejects with the reason and closes its connection", async () => {
  let serverSawEnd!: (why: string) => void;
  const ended = new Promise<string>((r) => serverSawEnd = r);
  const handler: ServeHandler = () => {
    // A body that never ends: 1 KiB, then silence.
    return new Response(
      new ReadableStream({
        start(ctl) {
          ctl.enqueue(new Uint8Array(1024));
        },
        cancel() {
          serverSawEnd("cancelled");
        },
      }),
    );
  };
  await withHttp({ capture: true }, handler, async (env) => {
    const ac = new AbortController();
    const err = await env.run(async () => {
      const res = await env.client.fetch(`http://${SERVER}/slow`, { signal: ac.signal });
      const reader = res.body!.getReader();
      assert.equal((await reader.read()).value?.length, 1024);
      const pending = reader.read();
      ac.abort();
      return await pending.catch((e) => e);
    });
    assert.ok(err instanceof DOMException && err.name === "AbortError", String(err));
    await env.run(() => delay(env, 1_000_000));
    const open = env.client.sockets().filter((s) => s.state === "ESTABLISHED");
    assert.deepEqual(open, [], "the client's connection is gone");
    // The server noticed the client left and stopped reading the endless body.
    const how = await env.run(() => Promise.race([ended, delay(env, 5_000_000).then(() => "no")]));
    assert.equal(how, "cancelled");
    assert.deepEqual(env.server.sockets().filter((s) => s.state === "ESTABLISHED"), []);
  });
});

Deno.test("http: shutdown with requests in flight answers them (Connection: close), then finishes", async () => {
  const handler: ServeHandler = async (req) => {
    await new Promise<void>((r) => wait(r, 200_000));
    return new Response(new URL(req.url).pathname);
  };
  let wait: (r: () => void, us: number) => void = () => {};
  await withServiceEnv(makeServiceEnv({ services: [] }), async (env) => {
    wait = (r, us) => env.net.at(env.net.now() + us, r);
    const server = env.server.serve({ port: 80 }, handler);
    const { bodies, closes, finished } = await env.run(async () => {
      const inFlight = [1, 2, 3].map((i) => env.client.fetch(`http://${SERVER}/r${i}`));
      await delay(env, 50_000); // the three requests are at the handler
      const shut = server.shutdown();
      const responses = await Promise.all(inFlight);
      const bodies = await Promise.all(responses.map((r) => r.text()));
      await shut;
      return {
        bodies,
        closes: responses.map((r) => r.headers.get("connection")),
        finished: await Promise.race([
          server.finished.then(() => true),
          delay(env, 1).then(() => false),
        ]),
      };
    });
    assert.deepEqual(bodies, ["/r1", "/r2", "/r3"]);
    assert.deepEqual(closes, ["close", "close", "close"]);
    assert.equal(finished, true);
    const refused = await env.run(() => env.client.fetch(`http://${SERVER}/late`).catch((e) => e));
    assert.ok(refused instanceof TypeError);
    assert.ok(refused.cause instanceof Deno.errors.ConnectionRefused, String(refused.cause));
  });
});

Deno.test("http: a client with retries gets through a partition that heals", async () => {
  await withHttp({}, jsonService, async (env) => {
    const attempts = await env.run(async () => {
      // A service that worked, then the link between the two goes away for 3 s.
      assert.deepEqual(
        await (await env.client.fetch(`http://${SERVER}/sum`, {
          method: "POST",
          body: JSON.stringify({ a: 1, b: 1 }),
        })).json(),
        { sum: 2 },
      );
      env.link.partition();
      env.net.at(env.net.now() + 3_000_000, () => env.link.heal());
      for (let attempt = 1; attempt <= 10; attempt++) {
        try {
          const res = await env.client.fetch(`http://${SERVER}/sum`, {
            method: "POST",
            body: JSON.stringify({ a: 2, b: 3 }),
            timeout: 1000,
          });
          assert.deepEqual(await res.json(), { sum: 5 });
          return attempt;
        } catch (e) {
          assert.ok(e instanceof TypeError);
          assert.ok((e as TypeError).cause instanceof Deno.errors.TimedOut);
        }
      }
      return -1;
    });
    assert.ok(attempts >= 3 && attempts <= 5, `succeeded on attempt ${attempts}`);
  });
});

Deno.test("http: the same seed gives the same bytes on the wire", async () => {
  async function once(): Promise<string> {
    let hash = "";
    await withHttp({ faults: FAULTY, capture: true, seed: 9 }, jsonService, async (env) => {
      await env.run(async () => {
        for (let i = 0; i < 10; i++) {
          const res = await env.client.fetch(`http://${SERVER}/sum`, {
            method: "POST",
            body: JSON.stringify({ a: i, b: i }),
          });
          await res.arrayBuffer();
        }
      });
      hash = createHash("sha256").update(env.capture!.bytes()).digest("hex");
    });
    return hash;
  }
  assert.equal(await once(), await once());
});

Deno.test("http: fetch errors are TypeErrors with the cause", async () => {
  await withServiceEnv(makeServiceEnv({ services: [] }), async (env) => {
    const refused = await env.run(() => env.client.fetch(`http://${SERVER}:81/`).catch((e) => e));
    assert.ok(
      refused instanceof TypeError && refused.cause instanceof Deno.errors.ConnectionRefused,
    );
    const unknown = await env.run(() => env.client.fetch("http://nowhere/").catch((e) => e));
    assert.ok(unknown instanceof TypeError && unknown.cause instanceof Deno.errors.NotFound);
    const https = await env.run(() => env.client.fetch(`https://${SERVER}/`).catch((e) => e));
    assert.ok(https instanceof TypeError && /no TLS/.test(https.message));
    const timeout = await env.run(() =>
      env.client.fetch("http://10.0.0.77/", { timeout: 300 }).catch((e) => e)
    );
    assert.ok(timeout instanceof TypeError && timeout.cause instanceof Deno.errors.TimedOut);
    assert.equal(CLIENT, "10.0.0.1");
  });
});
