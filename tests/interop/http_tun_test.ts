/**
 * `stack.serve()` and `stack.fetch()` over a real TUN device against Linux,
 * each test in its own network namespace (tests/services/_interop.ts runs
 * `cli.ts up`, tcpdump, and tshark on the capture afterwards): curl (GET,
 * POST with a body, a chunked upload, HEAD, two URLs on one kept-alive
 * connection) against a handler served by the virtual host, and the virtual
 * host fetching from `python3 -m http.server` in the namespace.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { HOST, LINUX, SERVICE_INTEROP_NEEDS, withUp } from "../services/_interop.ts";
import { spawnInNetns, whileRefused } from "./_netns.ts";
import { gated } from "../_require.ts";
import { randomChunks } from "../services/_services.ts";
import type { ServeHandler } from "../../mod.ts";

const NEEDS = [...SERVICE_INTEROP_NEEDS, "python3"] as const;

const handler: ServeHandler = async (req) => {
  const url = new URL(req.url);
  if (req.method === "POST" || req.method === "PUT") {
    const h = createHash("sha256");
    let n = 0;
    for await (const c of req.body!) {
      h.update(c);
      n += c.length;
    }
    return Response.json({ n, sha256: h.digest("hex"), te: req.headers.get("transfer-encoding") });
  }
  return new Response(`hello from ${url.pathname}\n`, { headers: { "x-served-by": "netstack" } });
};

Deno.test(gated(NEEDS, {
  name: "http tun: curl GET, POST, chunked upload, HEAD and two URLs on one connection",
  async fn() {
    await withUp({ driver: "tun", serve: "echo" }, async (h) => {
      const server = h.stack.serve({ port: 8080 }, handler);
      try {
        const curl = (args: string[]) => h.exec(["curl", "-sS", "--max-time", "10", ...args], 15);
        const get = await curl(["-i", `http://${HOST}:8080/a`]);
        assert.equal(get.code, 0, get.stderr);
        assert.match(get.stdout, /^HTTP\/1\.1 200 OK\r\n/);
        assert.match(get.stdout, /\r\nx-served-by: netstack\r\n/i);
        assert.match(get.stdout, /\r\n\r\nhello from \/a\n$/);

        const post = await curl(["-d", "name=value", `http://${HOST}:8080/form`]);
        assert.equal(post.code, 0, post.stderr);
        assert.deepEqual(JSON.parse(post.stdout), {
          n: 10,
          sha256: createHash("sha256").update("name=value").digest("hex"),
          te: null,
        });

        const file = await Deno.makeTempFile({ prefix: "http-", suffix: ".bin" });
        try {
          const hash = createHash("sha256");
          using f = await Deno.open(file, { write: true });
          for (const c of randomChunks(3, 1 << 20)) {
            hash.update(c);
            for (let off = 0; off < c.length;) off += await f.write(c.subarray(off));
          }
          const chunked = await curl([
            "-H",
            "Transfer-Encoding: chunked",
            "--data-binary",
            `@${file}`,
            `http://${HOST}:8080/upload`,
          ]);
          assert.equal(chunked.code, 0, chunked.stderr);
          assert.deepEqual(JSON.parse(chunked.stdout), {
            n: 1 << 20,
            sha256: hash.digest("hex"),
            te: "chunked",
          });
        } finally {
          await Deno.remove(file);
        }

        const head = await curl(["-I", `http://${HOST}:8080/h`]);
        assert.equal(head.code, 0, head.stderr);
        assert.match(head.stdout, /^HTTP\/1\.1 200 OK\r$/m);
        assert.match(head.stdout, /^Content-Length: 14\r$/m);

        const before = server.connections;
        const two = await curl([
          "-o",
          "/dev/null",
          "-o",
          "/dev/null",
          "-w",
          "%{http_code} %{num_connects}\\n",
          `http://${HOST}:8080/one`,
          `http://${HOST}:8080/two`,
        ]);
        assert.equal(two.code, 0, two.stderr);
        assert.equal(two.stdout, "200 1\n200 0\n", "the second URL reuses the connection");
        assert.equal(server.connections - before, 1);
      } finally {
        await server.shutdown();
      }
    });
  },
}));

Deno.test(gated(NEEDS, {
  name: "http tun: stack.fetch() gets files from python3 -m http.server in the namespace",
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "http-root-" });
    const big = new Uint8Array(3 << 20);
    let off = 0;
    for (const c of randomChunks(9, big.length)) {
      big.set(c, off);
      off += c.length;
    }
    await Deno.writeFile(`${dir}/big.bin`, big);
    await Deno.writeTextFile(`${dir}/hello.txt`, "hello from linux\n");
    // The first connect may come before python listens: a RST, and we try again.
    const tshark = { allowWarnings: [/^Connection reset \(RST\)/] };
    try {
      await withUp({ driver: "tun", serve: "echo", tshark }, async (h) => {
        const python = spawnInNetns(h.netns, [
          "python3",
          "-m",
          "http.server",
          "8000",
          "--bind",
          LINUX,
          "--directory",
          dir,
        ], 60);
        try {
          h.stack.hosts.set("linux", LINUX);
          // Until python listens.
          const text = await whileRefused(async () =>
            await (await h.stack.fetch("http://linux:8000/hello.txt")).text()
          );
          assert.equal(text, "hello from linux\n");
          const res = await h.stack.fetch(`http://${LINUX}:8000/big.bin`, { timeout: 10_000 });
          assert.equal(res.status, 200);
          assert.equal(res.headers.get("content-length"), String(big.length));
          const got = new Uint8Array(await res.arrayBuffer());
          assert.equal(
            createHash("sha256").update(got).digest("hex"),
            createHash("sha256").update(big).digest("hex"),
          );
          const missing = await h.stack.fetch(`http://${LINUX}:8000/nope`);
          assert.equal(missing.status, 404);
          await missing.arrayBuffer();
        } finally {
          python.kill("SIGTERM");
          await python.status;
        }
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
}));
