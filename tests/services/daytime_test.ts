/**
 * The daytime service (RFC 867) on the virtual network: the time is the
 * stack clock plus the `epoch` option, over TCP (then the server closes)
 * and UDP.
 */
import assert from "node:assert/strict";
import { ms } from "../_harness.ts";
import { formatDaytime } from "../../plugins/services/daytime/mod.ts";
import { bytes, makeServiceEnv, readAllText, SERVER, sleep, withServiceEnv } from "./_services.ts";

const EPOCH = Date.UTC(2001, 8, 9, 1, 46, 40) * 1000; // 1e15 µs

Deno.test("daytime over TCP sends the stack time plus epoch as one line, then closes", async () => {
  await withServiceEnv(
    makeServiceEnv({ services: ["daytime"], options: { daytime: { epoch: EPOCH } } }),
    async (env) => {
      await sleep(env, ms(90_061_000)); // 1 day, 1 h, 1 min, 1 s
      const text = await env.run(async () => {
        const conn = await env.client.connect({ hostname: SERVER, port: 13 });
        const t = await readAllText(conn);
        conn.close();
        return t;
      });
      assert.equal(text, "Monday, September 10, 2001 02:47:41-UTC\r\n");
      assert.equal(text, formatDaytime(EPOCH + 90_061_000_000));
      assert.equal(env.counter("daytime.connections"), 1);
    },
  );
});

Deno.test("daytime over TCP closes cleanly even when the client sends data first", async () => {
  await withServiceEnv(
    makeServiceEnv({ services: ["daytime"], options: { daytime: { epoch: EPOCH } } }),
    async (env) => {
      const text = await env.run(async () => {
        const conn = await env.client.connect({ hostname: SERVER, port: 13 });
        await conn.write(bytes("what time is it?\r\n"));
        await conn.closeWrite();
        const t = await readAllText(conn);
        conn.close();
        return t;
      });
      assert.equal(text, formatDaytime(EPOCH));
      assert.equal(env.server.counters.value("tcp.out_rsts"), 0, "no reset: the data was read");
    },
  );
});

Deno.test("daytime over UDP answers any datagram with the time", async () => {
  await withServiceEnv(
    makeServiceEnv({ services: ["daytime"], options: { daytime: { epoch: EPOCH } } }),
    async (env) => {
      const sock = env.client.listenDatagram({ transport: "udp" });
      try {
        const text = await env.run(async () => {
          await sock.send(bytes("?"), { hostname: SERVER, port: 13 });
          const [data] = await sock.receive();
          return new TextDecoder().decode(data);
        });
        assert.equal(text, "Sunday, September 9, 2001 01:46:40-UTC\r\n");
      } finally {
        sock.close();
      }
    },
  );
});
