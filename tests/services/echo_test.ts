/**
 * The echo service (RFC 862) on the virtual network: TCP data comes back
 * unchanged (SHA-256 of 1 MB), also under loss, reordering and duplication;
 * UDP datagrams come back to their sender; datagrams from another simple
 * service's port are not answered.
 */
import assert from "node:assert/strict";
import type { Faults } from "../../drivers/loopback/faults.ts";
import { ms } from "../_harness.ts";
import { assertTsharkClean } from "../_tshark.ts";
import {
  bytes,
  FLOW_CONTROL_WARNINGS,
  makeServiceEnv,
  receiveHashed,
  sendHashed,
  SERVER,
  sleep,
  withServiceEnv,
} from "./_services.ts";

const MB = 1_000_000;

async function echoMegabyte(faults?: Faults, seed = 1): Promise<void> {
  await withServiceEnv(
    makeServiceEnv({ seed, services: ["echo"], ...(faults ? { faults } : {}), capture: !faults }),
    async (env) => {
      await env.run(async () => {
        const conn = await env.client.connect({ hostname: SERVER, port: 7 });
        const [sent, back] = await Promise.all([sendHashed(conn, seed, MB), receiveHashed(conn)]);
        assert.equal(back.bytes, MB);
        assert.equal(back.hash, sent, "SHA-256 of what came back");
        conn.close();
      });
      assert.equal(env.counter("echo.bytes"), MB);
      assert.equal(env.counter("echo.connections"), 1);
      // Both ends close (the server after our FIN): nothing left but TIME-WAIT.
      env.runFor(ms(1000));
      assert.deepEqual(
        env.server.sockets().filter((s) => s.state !== "LISTEN").map((s) => s.state),
        [],
        "the server's side is closed",
      );
      if (env.capture) {
        await assertTsharkClean(env.capture.bytes(), { allowWarnings: FLOW_CONTROL_WARNINGS });
      }
    },
  );
}

Deno.test("echo over TCP returns 1 MB unchanged (SHA-256) and closes after the client", async () => {
  await echoMegabyte();
});

Deno.test("echo over TCP returns 1 MB unchanged under 2% loss, reordering and duplication", async () => {
  const faults: Faults = {
    loss: 0.02,
    reorder: 0.02,
    duplicate: 0.01,
    delay: ms(5),
    jitter: ms(2),
  };
  for (const seed of [1, 2, 3]) await echoMegabyte(faults, seed);
});

Deno.test("echo over UDP answers each datagram to its sender", async () => {
  await withServiceEnv(makeServiceEnv({ services: ["echo"] }), async (env) => {
    const sock = env.client.listenDatagram({ transport: "udp" });
    try {
      await env.run(async () => {
        for (const text of ["hi", "", "x".repeat(1400)]) {
          await sock.send(bytes(text), { hostname: SERVER, port: 7 });
          const [data, from] = await sock.receive();
          assert.equal(new TextDecoder().decode(data), text);
          assert.deepEqual(from, { transport: "udp", hostname: SERVER, port: 7 });
        }
      });
    } finally {
      sock.close();
    }
    assert.equal(env.counter("echo.datagrams"), 3);
    assert.equal(env.counter("echo.bytes"), 1402);
  });
});

Deno.test("echo over UDP does not answer a datagram from port 19 (no echo–chargen loop)", async () => {
  await withServiceEnv(makeServiceEnv({ services: ["echo"] }), async (env) => {
    const sock = env.client.listenDatagram({ transport: "udp", port: 19 });
    try {
      await sock.send(bytes("loop?"), { hostname: SERVER, port: 7 });
      await sleep(env, ms(100));
      assert.equal(env.counter("echo.datagrams"), 1);
      assert.equal(env.counter("echo.bytes"), 0);
      assert.equal(env.client.counters.value("udp.rx.datagrams"), 0, "no answer came back");
    } finally {
      sock.close();
    }
  });
});

Deno.test("echo serves several TCP connections at once", async () => {
  await withServiceEnv(makeServiceEnv({ services: ["echo"] }), async (env) => {
    await env.run(async () => {
      const results = await Promise.all([1, 2, 3, 4].map(async (i) => {
        const conn = await env.client.connect({ hostname: SERVER, port: 7 });
        const [sent, back] = await Promise.all([
          sendHashed(conn, i, 50_000 * i),
          receiveHashed(conn),
        ]);
        conn.close();
        return back.hash === sent && back.bytes === 50_000 * i;
      }));
      assert.deepEqual(results, [true, true, true, true]);
    });
    assert.equal(env.counter("echo.connections"), 4);
    assert.equal(env.counter("echo.bytes"), 500_000);
  });
});
