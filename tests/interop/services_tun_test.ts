/**
 * The services of plugins/services/ through `cli.ts up --driver tun`, with
 * Linux tools as the clients, each test in its own network namespace (see
 * tests/services/_interop.ts): curl and the status page, 100,000,000 bytes
 * into discard, 10 MB through echo, UDP echo, daytime, chargen, the virtual
 * host connecting out to a Linux server, a RST for a closed TCP port and an
 * ICMP port unreachable for a closed UDP port. tshark checks every capture.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { chargenPattern } from "../../plugins/services/chargen/mod.ts";
import { runTshark } from "../_tshark.ts";
import { eventually, HOST, LINUX, SERVICE_INTEROP_NEEDS, withUp } from "../services/_interop.ts";
import { spawnInNetns, whileRefused } from "./_netns.ts";
import { gated } from "../_require.ts";
import { randomChunks } from "../services/_services.ts";

/** Writes `n` deterministic bytes to a new temporary file; returns its path and SHA-256. */
async function randomFile(n: number, seed: number): Promise<{ path: string; hash: string }> {
  const path = await Deno.makeTempFile({ prefix: "svc-", suffix: ".bin" });
  const h = createHash("sha256");
  using f = await Deno.open(path, { write: true });
  for (const chunk of randomChunks(seed, n, 1 << 20)) {
    h.update(chunk);
    for (let off = 0; off < chunk.length;) off += await f.write(chunk.subarray(off));
  }
  return { path, hash: h.digest("hex") };
}

async function fileHash(path: string): Promise<{ bytes: number; hash: string }> {
  const data = await Deno.readFile(path);
  return { bytes: data.length, hash: createHash("sha256").update(data).digest("hex") };
}

Deno.test(gated(SERVICE_INTEROP_NEEDS, {
  name:
    "services tun: curl gets the status page (HTML, text, HEAD, 404) over one kept-alive connection",
  async fn() {
    await withUp({ driver: "tun", serve: "http,echo" }, async (h) => {
      const page = await h.exec(["curl", "-sS", "--max-time", "5", `http://${HOST}/`], 10);
      assert.equal(page.code, 0, page.stderr);
      assert.match(page.stdout, /<h1>deno-netstack<\/h1>/);
      assert.match(page.stdout, /^LISTEN +0 +128 +\*:80 +\*:\*$/m);
      assert.match(
        page.stdout,
        new RegExp(`^ESTABLISHED .* \\[::ffff:${HOST}\\]:80 +\\[::ffff:${LINUX}\\]:\\d+$`, "m"),
      );
      assert.match(page.stdout, /^http:\n( {2}.*\n)* {2}requests +1$/m);
      // Two URLs in one curl: the second reuses the connection (num_connects 0).
      const two = await h.exec([
        "curl",
        "-sS",
        "--max-time",
        "5",
        "-H",
        "Accept: text/plain",
        "-o",
        "/dev/null",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code} %{num_connects} %{content_type}\\n",
        `http://${HOST}/`,
        `http://${HOST}/nowhere`,
      ], 10);
      assert.equal(two.code, 0, two.stderr);
      assert.equal(
        two.stdout,
        "200 1 text/plain; charset=utf-8\n404 0 text/plain; charset=utf-8\n",
      );
      const head = await h.exec([
        "curl",
        "-sS",
        "--max-time",
        "5",
        "-I",
        `http://${HOST}/counters.json`,
      ], 10);
      assert.equal(head.code, 0, head.stderr);
      assert.match(head.stdout, /^HTTP\/1\.1 200 OK\r$/m);
      assert.match(head.stdout, /^Content-Type: application\/json\r$/mi); // names are case-insensitive
      assert.match(head.stdout, /^Content-Length: \d+\r$/mi);
      assert.match(head.stdout, /^Date: \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT\r$/mi);
      const json = await h.exec(
        ["curl", "-sS", "--max-time", "5", `http://${HOST}/counters.json`],
        10,
      );
      const counters = JSON.parse(json.stdout) as Record<string, number>;
      assert.equal(counters["http.requests"], 5, "this one included");
      assert.equal(counters["http.connections"], 4);
      assert.equal(counters["http.responses_404"], 1);
    });
  },
}));

Deno.test(gated(SERVICE_INTEROP_NEEDS, {
  name: "services tun: 100,000,000 bytes from nc into discard are all counted",
  async fn() {
    let elapsed = 0;
    // Headers only in the capture: 100 MB of zeros would not tell tshark more.
    await withUp({ driver: "tun", serve: "discard", snaplen: 128 }, async (h) => {
      const t0 = performance.now();
      const r = await h.sh("head -c 100000000 /dev/zero | nc -N -w 3 10.0.0.2 9", 90);
      elapsed = (performance.now() - t0) / 1000;
      assert.equal(r.code, 0, `nc: ${r.code} ${r.stderr}`);
      const counted = () => h.stack.counters.value("discard.bytes");
      assert.ok(await eventually(() => counted() === 100_000_000, 5), `counted ${counted()}`);
      assert.equal(h.stack.counters.value("discard.connections"), 1);
    });
    // deno-lint-ignore no-console
    console.log(
      `  100 MB nc → discard over TUN: ${elapsed.toFixed(2)} s, ` +
        `${(800 / elapsed / 1000).toFixed(2)} Gbit/s`,
    );
  },
}));

Deno.test(gated(SERVICE_INTEROP_NEEDS, {
  name: "services tun: 10 MB through echo come back with the same SHA-256",
  async fn() {
    const input = await randomFile(10_000_000, 7);
    const output = await Deno.makeTempFile({ prefix: "svc-", suffix: ".out" });
    try {
      await withUp({ driver: "tun", serve: "echo" }, async (h) => {
        const r = await h.sh(`nc -N -w 5 ${HOST} 7 < ${input.path} > ${output}`, 60);
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual(await fileHash(output), { bytes: 10_000_000, hash: input.hash });
        assert.equal(h.stack.counters.value("echo.bytes"), 10_000_000);
      }, undefined);
    } finally {
      await Deno.remove(input.path);
      await Deno.remove(output);
    }
  },
}));

Deno.test(gated(SERVICE_INTEROP_NEEDS, {
  name: "services tun: UDP echo answers socat; daytime answers nc and socat with today's date",
  async fn() {
    await withUp({ driver: "tun", serve: "echo,daytime" }, async (h) => {
      const echo = await h.sh(`echo hi | socat -T 2 - UDP:${HOST}:7`, 5);
      assert.equal(echo.code, 0, echo.stderr);
      assert.equal(echo.stdout, "hi\n");
      const year = new Date().getUTCFullYear();
      const line = /^\w+day, \w+ \d{1,2}, (\d{4}) \d\d:\d\d:\d\d-UTC\r\n$/;
      const tcp = await h.exec(["nc", "-w", "2", HOST, "13"], 5);
      assert.equal(tcp.code, 0, tcp.stderr);
      assert.match(tcp.stdout, line);
      assert.ok(Math.abs(Number(line.exec(tcp.stdout)![1]) - year) <= 1, tcp.stdout);
      const udp = await h.sh(`echo | socat -T 2 - UDP:${HOST}:13`, 5);
      assert.match(udp.stdout, line);
    });
  },
}));

Deno.test(gated(SERVICE_INTEROP_NEEDS, {
  name: "services tun: chargen streams its pattern to nc until nc goes away",
  async fn() {
    const want = createHash("sha256").update(chargenPattern(1_000_000).subarray(0, 1_000_000))
      .digest("hex");
    await withUp(
      { driver: "tun", serve: "chargen", tshark: { allowWarnings: [/^Connection reset \(RST\)/] } },
      async (h) => {
        const r = await h.sh(`nc ${HOST} 19 | head -c 1000000 | sha256sum`, 10);
        assert.equal(r.stdout.split(" ")[0], want, r.stderr);
        const gone = () =>
          h.stack.sockets().filter((s) => s.local.endsWith(":19") && s.state !== "LISTEN")
            .length === 0;
        assert.ok(await eventually(gone, 5), "the server's connection ended");
        assert.equal(h.stack.counters.value("chargen.errors"), 0);
      },
    );
  },
}));

Deno.test(gated(SERVICE_INTEROP_NEEDS, {
  name: "services tun: the virtual host connects to a Linux server and moves 10 MB each way",
  async fn() {
    // The first connect may come before socat listens: a RST, and we try again.
    const tshark = { allowWarnings: [/^Connection reset \(RST\)/] };
    await withUp({ driver: "tun", serve: "discard", tshark }, async (h) => {
      // Linux echoes with `cat` behind socat on port 7 (tshark's echo dissector shows
      // random bytes as data; on other ports it may guess a protocol and complain).
      const server = spawnInNetns(
        h.netns,
        ["socat", `TCP-LISTEN:7,bind=${LINUX},reuseaddr`, "EXEC:cat"],
        60,
        "piped",
      );
      try {
        // Until socat listens.
        const conn = await whileRefused(() => h.stack.connect({ hostname: LINUX, port: 7 }));
        const total = 10_000_000;
        const sent = createHash("sha256");
        const got = createHash("sha256");
        let received = 0;
        const writer = (async () => {
          for (const chunk of randomChunks(11, total)) {
            sent.update(chunk);
            for (let off = 0; off < chunk.length;) off += await conn.write(chunk.subarray(off));
          }
          await conn.closeWrite();
        })();
        const buf = new Uint8Array(65536);
        for (;;) {
          const n = await conn.read(buf);
          if (n === null) break;
          got.update(buf.subarray(0, n));
          received += n;
        }
        await writer;
        conn.close();
        assert.equal(received, total);
        assert.equal(got.digest("hex"), sent.digest("hex"));
        assert.equal(
          h.stack.counters.value("tcp.attempt_fails"),
          h.stack.counters.value("tcp.active_opens") - 1,
        );
      } finally {
        const status = await server.status;
        const err = new TextDecoder().decode(await new Response(server.stderr).arrayBuffer());
        assert.equal(status.code, 0, `socat: ${err}`);
      }
    });
  },
}));

Deno.test(gated(SERVICE_INTEROP_NEEDS, {
  name: "services tun: a closed TCP port is refused at once (RST)",
  async fn() {
    await withUp(
      { driver: "tun", serve: "echo", tshark: { allowWarnings: [/^Connection reset \(RST\)/] } },
      async (h) => {
        const r = await h.exec(["nc", "-z", "-v", "-w", "2", HOST, "1234"], 5);
        assert.notEqual(r.code, 0);
        assert.match(r.stderr, /refused/i, "refused, not timed out");
        assert.equal(h.stack.counters.value("tcp.out_rsts"), 1);
      },
      async (pcap) => {
        const rst = await runTshark(pcap, ["-Y", `ip.src==${HOST} && tcp.flags.reset==1`]);
        assert.equal(rst.trim().split("\n").filter((l) => l !== "").length, 1, rst);
      },
    );
  },
}));

Deno.test(gated(SERVICE_INTEROP_NEEDS, {
  name: "services tun: a closed UDP port answers ICMP port unreachable",
  async fn() {
    await withUp({ driver: "tun", serve: "echo" }, async (h) => {
      const r = await h.sh(`echo hi | socat -T 2 - UDP:${HOST}:5555`, 5);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /Connection refused/);
    }, async (pcap) => {
      const icmp = await runTshark(pcap, [
        "-Y",
        `ip.src==${HOST} && icmp.type==3 && icmp.code==3 && udp.dstport==5555`,
      ]);
      assert.ok(icmp.trim() !== "", "tshark sees the ICMP port unreachable");
    });
  },
}));
