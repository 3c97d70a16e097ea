/**
 * The discard service (RFC 863) on the virtual network: it counts every byte
 * of 10 MB sent over TCP (also under loss and reordering), closes once the
 * client has, and counts UDP payload.
 */
import assert from "node:assert/strict";
import type { Faults } from "../../drivers/loopback/faults.ts";
import { ms } from "../_harness.ts";
import { makeServiceEnv, sendHashed, SERVER, sleep, withServiceEnv } from "./_services.ts";

const TEN_MB = 10_000_000;

async function discardTenMegabytes(faults?: Faults): Promise<void> {
  await withServiceEnv(
    makeServiceEnv({ services: ["discard"], ...(faults ? { faults } : {}) }),
    async (env) => {
      await env.run(async () => {
        const conn = await env.client.connect({ hostname: SERVER, port: 9 });
        await sendHashed(conn, 9, TEN_MB);
        // The server closes after our FIN: end of stream, nothing sent back.
        assert.equal(await conn.read(new Uint8Array(16)), null);
        conn.close();
      });
      assert.equal(env.counter("discard.bytes"), TEN_MB);
      assert.equal(env.counter("discard.connections"), 1);
      assert.equal(env.counter("discard.errors"), 0);
    },
  );
}

Deno.test("discard counts every byte of 10 MB over TCP, then closes after the client", async () => {
  await discardTenMegabytes();
});

Deno.test("discard counts every byte of 10 MB under 1% loss and reordering", async () => {
  await discardTenMegabytes({ loss: 0.01, reorder: 0.01, delay: ms(2), jitter: ms(1) });
});

Deno.test("discard counts UDP payload and sends nothing back", async () => {
  await withServiceEnv(makeServiceEnv({ services: ["discard"] }), async (env) => {
    const sock = env.client.listenDatagram({ transport: "udp" });
    try {
      for (const n of [0, 1, 1000, 8000]) {
        await sock.send(new Uint8Array(n), { hostname: SERVER, port: 9 });
      }
      await sleep(env, ms(10));
    } finally {
      sock.close();
    }
    assert.equal(env.counter("discard.datagrams"), 4);
    assert.equal(env.counter("discard.bytes"), 9001);
    assert.equal(env.client.counters.value("udp.rx.datagrams"), 0);
  });
});
