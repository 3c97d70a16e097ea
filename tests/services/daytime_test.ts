/**
 * The daytime service (RFC 867) on the virtual network: the time is the
 * stack clock plus the `epoch` option, over TCP (then the server closes)
 * and UDP.
 */
import assert from "node:assert/strict";
import { ms } from "../_harness.ts";
import { formatDaytime } from "../../plugins/services/daytime/mod.ts";
import {
  bytes,
  delay,
  makeServiceEnv,
  readAllText,
  SERVER,
  sleep,
  withServiceEnv,
} from "./_services.ts";

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

Deno.test("daytime over TCP: a client that never closes is reset after lingerMs, not counted as an error", async () => {
  await withServiceEnv(
    makeServiceEnv({ services: ["daytime"], options: { daytime: { lingerMs: 1000 } } }),
    async (env) => {
      const failed = await env.run(async () => {
        const conn = await env.client.connect({ hostname: SERVER, port: 13 });
        const buf = new Uint8Array(256);
        // The line, then the server's FIN; we never close, so its read for our FIN waits.
        while ((await conn.read(buf)) !== null) { /* the line */ }
        await delay(env, ms(1500)); // past lingerMs: the server reset the connection
        const e = await conn.write(bytes("x")).then(() => undefined, (e) => e);
        conn.close();
        return e;
      });
      assert.ok(failed instanceof Deno.errors.ConnectionReset, String(failed));
      assert.equal(failed.message, "Cannot write: Connection reset by peer");
      // The server's own close() cut its read short (Interrupted): a peer gone, not a failure.
      assert.equal(env.counter("daytime.errors"), 0);
      assert.equal(env.counter("daytime.connections"), 1);
    },
  );
});
