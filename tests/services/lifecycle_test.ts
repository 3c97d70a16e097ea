/**
 * What every service shares (defineService, stack/service/): listening once
 * the stack is ready (or once its `hostname` is configured), the
 * `maxConnections` bound, a port conflict counted rather than thrown, and
 * stopping everything when the stack closes; plus the registry and
 * `cli.ts up --serve` on the in-memory network.
 */
import assert from "node:assert/strict";
import { ms } from "../_harness.ts";
import { runUpWhileReady } from "../cli/_up.ts";
import { SERVICES } from "../../plugins/services/mod.ts";
import type { TcpConn } from "../../mod.ts";
import {
  bytes,
  delay,
  makeServiceEnv,
  readExactly,
  SERVER,
  sleep,
  withServiceEnv,
  writeAll,
} from "./_services.ts";

Deno.test("services listen on TCP (and UDP) as soon as the stack is ready", async () => {
  await withServiceEnv(makeServiceEnv(), (env) => {
    // Every address: `::` for both families (ss: `*:7`) once IPv6 is loaded.
    const any = env.server.service("ipv6.route") === undefined ? "0.0.0.0" : "*";
    assert.deepEqual(
      env.server.sockets().map((s) => `${s.state} ${s.local}`).sort(),
      [13, 19, 5201, 7, 80, 9].map((p) => `LISTEN ${any}:${p}`),
    );
    assert.deepEqual(Object.keys(SERVICES), [
      "echo",
      "discard",
      "chargen",
      "daytime",
      "http",
      "iperf3",
    ]);
    for (const [name, s] of Object.entries(SERVICES)) {
      assert.equal(s.plugins[0]!.manifest.name, name);
      assert.equal(s.plugins[0]!.manifest.layer, "service");
    }
  });
});

Deno.test("a service bound to a hostname starts listening when the address is added", async () => {
  await withServiceEnv(
    makeServiceEnv({ services: ["echo"], options: { echo: { hostname: SERVER, udp: false } } }),
    async (env) => {
      // makeServiceEnv adds the interface after the stack booted: the listener came later.
      assert.deepEqual(env.server.sockets().map((s) => s.local), [`${SERVER}:7`]);
      const back = await env.run(async () => {
        const conn = await env.client.connect({ hostname: SERVER, port: 7 });
        await writeAll(conn, bytes("ping"));
        const b = await readExactly(conn, 4);
        conn.close();
        return new TextDecoder().decode(b);
      });
      assert.equal(back, "ping");
      assert.equal(env.counter("echo.errors"), 0);
    },
  );
});

Deno.test("maxConnections: a connection over the limit is reset and counted", async () => {
  await withServiceEnv(
    makeServiceEnv({ services: ["echo"], options: { echo: { maxConnections: 2 } } }),
    async (env) => {
      await env.run(async () => {
        const conns: TcpConn[] = [];
        for (let i = 0; i < 2; i++) {
          conns.push(await env.client.connect({ hostname: SERVER, port: 7 }));
        }
        const third = await env.client.connect({ hostname: SERVER, port: 7 });
        await assert.rejects(third.read(new Uint8Array(1)), Deno.errors.ConnectionReset);
        third.close();
        // The two served connections still work.
        for (const c of conns) {
          await writeAll(c, bytes("ok"));
          assert.equal(new TextDecoder().decode(await readExactly(c, 2)), "ok");
          c.close();
        }
      });
      assert.equal(env.counter("echo.rejected"), 1);
      assert.equal(env.counter("echo.connections"), 2);
    },
  );
});

Deno.test("a port already taken is counted as an error, not thrown at boot", async () => {
  await withServiceEnv(
    makeServiceEnv({ services: ["discard", "echo"], options: { echo: { port: 9 } } }),
    (env) => {
      assert.equal(env.counter("echo.errors"), 2, "tcp and udp port 9 are the discard service's");
      assert.equal(env.counter("discard.errors"), 0);
    },
  );
});

Deno.test("closing the stack stops every service mid-transfer, with nothing left pending", async () => {
  const env = makeServiceEnv();
  try {
    await env.run(async () => {
      const gen = await env.client.connect({ hostname: SERVER, port: 19 });
      await readExactly(gen, 10_000);
      const web = await env.client.connect({ hostname: SERVER, port: 80 });
      await writeAll(web, bytes(`GET / HTTP/1.1\r\nHost: x\r\n\r\n`));
      const echo = await env.client.connect({ hostname: SERVER, port: 7 });
      await writeAll(echo, new Uint8Array(100_000));
      await delay(env, ms(5));
      assert.equal(env.server.sockets().filter((s) => s.state === "ESTABLISHED").length, 3);
    });
    env.server.close(); // teardown: listeners, sockets and connections closed
    await sleep(env, ms(100));
    assert.deepEqual(env.server.sockets(), []);
  } finally {
    env.close();
  }
  env.finish();
});

Deno.test("cli up --driver loopback --serve echo,daytime,http runs the services with the real epoch", async () => {
  let daytime = "";
  let listening: string[] = [];
  const { code, out, err } = await runUpWhileReady(
    ["--driver", "loopback", "--serve", "echo,daytime,http"],
    async (stack) => {
      listening = stack.sockets().map((s) => s.local);
      // The stack's own address goes through its loopback path.
      const conn = await stack.connect({ hostname: "10.0.0.2", port: 13 });
      daytime = await new Response(conn.readable).text();
      conn.close();
    },
    { services: SERVICES },
  );
  assert.equal(code, 0, err.join("\n"));
  assert.equal(out[0], "ready eth0 10.0.0.2/24");
  // up loads IPv6: the services listen on :: for both families (ss: *:port).
  assert.deepEqual(listening, ["*:7", "*:13", "*:80"]);
  const year = Number(/, (\d{4}) \d\d:\d\d:\d\d-UTC\r\n$/.exec(daytime)?.[1]);
  assert.ok(year >= 2024, `daytime from the real clock: ${JSON.stringify(daytime)}`);
  assert.match(out.join("\n"), /^daytime:\n {2}connections 1$/m);
});
