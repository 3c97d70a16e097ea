/**
 * `stack.fetch()` semantics against `stack.serve()` on the virtual network:
 * redirects (follow, manual, error; 303 and 301/302-after-POST become GET;
 * 307 keeps the method and body; the limit of 20; `Authorization` dropped
 * across origins), keep-alive reuse and its bounds, a kept connection the
 * server closed (sent again on a new one), HEAD and 204 without bodies,
 * names from `stack.hosts`, IPv6 literals, and request options.
 */
import assert from "node:assert/strict";
import { delay, makeServiceEnv, SERVER, withServiceEnv } from "../services/_services.ts";
import { withHttpServer } from "./_http.ts";
import type { ServeHandler } from "../../mod.ts";

/** `/r/N` redirects N times with `status`, then answers with what it saw. */
function redirector(status: number): ServeHandler {
  return async (req) => {
    const url = new URL(req.url);
    const m = /^\/r\/(\d+)$/.exec(url.pathname);
    if (m !== null && Number(m[1]) > 0) {
      return new Response(null, {
        status,
        headers: { location: `/r/${Number(m[1]) - 1}` },
      });
    }
    const body = req.body === null ? "" : await req.text();
    return Response.json({
      method: req.method,
      body,
      auth: req.headers.get("authorization"),
      type: req.headers.get("content-type"),
    });
  };
}

Deno.test("fetch follows redirects: 303 becomes GET, 307 keeps POST and its body", async () => {
  await withHttpServer(() => redirector(303), async (env) => {
    const res = await env.run(() =>
      env.client.fetch(`http://${SERVER}/r/2`, {
        method: "POST",
        body: "payload",
        headers: { "content-type": "text/plain" },
      })
    );
    assert.equal(res.redirected, true);
    assert.equal(res.url, `http://${SERVER}/r/0`);
    assert.deepEqual(await env.run(() => res.json()), {
      method: "GET",
      body: "",
      auth: null,
      type: null,
    });
  });
  await withHttpServer(() => redirector(307), async (env) => {
    const res = await env.run(() =>
      env.client.fetch(`http://${SERVER}/r/3`, { method: "POST", body: "payload" })
    );
    const seen = await env.run(() => res.json()) as { method: string; body: string };
    assert.deepEqual([seen.method, seen.body], ["POST", "payload"]);
  });
});

Deno.test("fetch redirect modes: manual returns the 3xx, error rejects, more than 20 rejects", async () => {
  await withHttpServer(() => redirector(302), async (env, server) => {
    const manual = await env.run(() =>
      env.client.fetch(`http://${SERVER}/r/1`, { redirect: "manual" })
    );
    assert.equal(manual.status, 302);
    assert.equal(manual.headers.get("location"), "/r/0");
    assert.equal(manual.redirected, false);
    const error = await env.run(() =>
      env.client.fetch(`http://${SERVER}/r/1`, { redirect: "error" }).catch((e) => e)
    );
    assert.ok(error instanceof TypeError && /redirect/.test(error.message));
    const before = server.requests;
    const tooMany = await env.run(() => env.client.fetch(`http://${SERVER}/r/25`).catch((e) => e));
    assert.ok(tooMany instanceof TypeError && /20 redirects/.test(tooMany.message));
    assert.equal(server.requests - before, 21, "the first request and 20 redirects");
    const twenty = await env.run(() => env.client.fetch(`http://${SERVER}/r/20`));
    assert.equal(twenty.status, 200);
    await env.run(() => twenty.arrayBuffer());
  });
});

Deno.test("fetch drops Authorization on a redirect to another origin, keeps it on the same", async () => {
  await withServiceEnv(makeServiceEnv({ services: [] }), async (env) => {
    // The server stack listens on two ports: two origins.
    const seen: (string | null)[] = [];
    const a = env.server.serve({ port: 80 }, (req) => {
      const path = new URL(req.url).pathname;
      seen.push(req.headers.get("authorization"));
      if (path === "/same") return Response.redirect(`http://${SERVER}/end`, 302);
      if (path === "/other") return Response.redirect(`http://${SERVER}:8080/end`, 302);
      return new Response("a");
    });
    const b = env.server.serve({ port: 8080 }, (req) => {
      seen.push(req.headers.get("authorization"));
      return new Response("b");
    });
    await env.run(async () => {
      const init = { headers: { authorization: "Bearer t" } };
      await (await env.client.fetch(`http://${SERVER}/same`, init)).text();
      await (await env.client.fetch(`http://${SERVER}/other`, init)).text();
    });
    assert.deepEqual(seen, ["Bearer t", "Bearer t", "Bearer t", null]);
    await env.run(() => Promise.all([a.shutdown(), b.shutdown()]));
  });
});

Deno.test("fetch reuses a kept-alive connection per origin; a body not read closes it", async () => {
  await withHttpServer(() => () => new Response("x".repeat(100)), async (env, server) => {
    await env.run(async () => {
      for (let i = 0; i < 5; i++) await (await env.client.fetch(`http://${SERVER}/`)).text();
    });
    assert.equal(server.connections, 1);
    await env.run(async () => {
      const res = await env.client.fetch(`http://${SERVER}/`);
      await res.body!.cancel(); // given up: the connection cannot be reused
      await (await env.client.fetch(`http://${SERVER}/`)).text();
    });
    assert.equal(server.connections, 2);
    // Concurrent requests need concurrent connections; afterwards they are kept.
    await env.run(async () => {
      const all = await Promise.all(
        Array.from({ length: 3 }, () => env.client.fetch(`http://${SERVER}/`)),
      );
      await Promise.all(all.map((r) => r.text()));
    });
    assert.equal(server.connections, 4, "two more for the two that ran alongside the kept one");
    // The caller's Connection: close reaches the server, and nothing is kept.
    const said = await env.run(async () => {
      const res = await env.client.fetch(`http://${SERVER}/`, { headers: { connection: "close" } });
      await res.text();
      return res.headers.get("connection");
    });
    assert.equal(said, "close");
  });
});

Deno.test("fetch sends again on a new connection when the server closed the kept one", async () => {
  await withHttpServer(() => () => new Response("ok"), async (env, server) => {
    await env.run(async () => {
      assert.equal(await (await env.client.fetch(`http://${SERVER}/`)).text(), "ok");
      await delay(env, 1_500_000); // past the server's keep-alive timeout: it closed
      assert.equal(await (await env.client.fetch(`http://${SERVER}/`)).text(), "ok");
    });
    assert.equal(server.connections, 2);
    assert.equal(server.requests, 2);
  }, { keepAliveTimeout: 1000 });
});

Deno.test("fetch does not send a POST again on its own: the closed kept connection is an error", async () => {
  await withHttpServer(() => () => new Response("ok"), async (env, server) => {
    const err = await env.run(async () => {
      await (await env.client.fetch(`http://${SERVER}/`)).text();
      await delay(env, 1_500_000); // the server closed the kept connection
      return await env.client.fetch(`http://${SERVER}/`, { method: "POST", body: "x" })
        .catch((e) => e);
    });
    assert.ok(err instanceof TypeError, String(err));
    assert.ok(err.cause instanceof Deno.errors.ConnectionReset, String(err.cause));
    assert.equal(server.requests, 1, "the POST never reached a handler");
    const again = await env.run(async () =>
      (await env.client.fetch(`http://${SERVER}/`, { method: "POST", body: "x" })).text()
    );
    assert.equal(again, "ok", "a new connection for the caller's own retry");
  }, { keepAliveTimeout: 1000 });
});

Deno.test("fetch: HEAD and 204 have no body; a name from stack.hosts; an IPv6 literal", async () => {
  const handler: ServeHandler = (req) =>
    new URL(req.url).pathname === "/none"
      ? new Response(null, { status: 204 })
      : new Response("twelve bytes");
  await withServiceEnv(makeServiceEnv({ services: [] }), async (env) => {
    env.server.addAddress(env.server.interfaces.list()[0]!.name, "fd00::2/64");
    env.client.addAddress(env.client.interfaces.list()[0]!.name, "fd00::1/64");
    const server = env.server.serve({ port: 80, hostname: "::" }, handler);
    env.client.hosts.set("api.test", SERVER);
    const [head, none, named, v6] = await env.run(async () => {
      const head = await env.client.fetch("http://api.test/", { method: "HEAD" });
      const none = await env.client.fetch("http://api.test/none");
      const named = await (await env.client.fetch("http://API.test/")).text();
      await delay(env, 3_000_000); // duplicate address detection of the fd00:: addresses
      const v6 = await (await env.client.fetch("http://[fd00::2]/")).text();
      return [head, none, named, v6];
    });
    assert.equal(head.status, 200);
    assert.equal(head.body, null);
    assert.equal(head.headers.get("content-length"), "12");
    assert.equal(none.status, 204);
    assert.equal(none.body, null);
    assert.equal(named, "twelve bytes");
    assert.equal(v6, "twelve bytes");
    assert.equal(server.connections, 2, "HEAD, 204 and the named GET share one; IPv6 is another");
    await env.run(() => server.shutdown());
  });
});

Deno.test("fetch validates timeout and refuses a body on GET like the Web fetch", async () => {
  await withServiceEnv(makeServiceEnv({ services: [] }), async (env) => {
    await assert.rejects(() => env.client.fetch(`http://${SERVER}/`, { timeout: NaN }), TypeError);
    await assert.rejects(() => env.client.fetch(`http://${SERVER}/`, { timeout: -1 }), RangeError);
    await assert.rejects(
      () => env.client.fetch(`http://${SERVER}/`, { method: "GET", body: "x" }),
      TypeError,
    );
    const aborted = await env.client.fetch(`http://${SERVER}/`, { signal: AbortSignal.abort() })
      .catch((e) => e);
    assert.ok(aborted instanceof DOMException && aborted.name === "AbortError");
  });
});
