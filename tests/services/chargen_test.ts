/**
 * The chargen service (RFC 864) on the virtual network: the TCP stream is
 * the rotating 72-character line pattern without a gap; a reader that stops
 * stops the generator (back-pressure through `write`) with bounded queues;
 * a reset from the client ends it; UDP answers are 0..512 bytes of the
 * pattern, their lengths from the seeded RNG.
 */
import assert from "node:assert/strict";
import { ms } from "../_harness.ts";
import { CHARGEN_PERIOD, chargenLine, chargenPattern } from "../../plugins/services/chargen/mod.ts";
import { makeServiceEnv, readExactly, SERVER, sleep, withServiceEnv } from "./_services.ts";

const PATTERN = chargenPattern(4 * 1024 * 1024 + CHARGEN_PERIOD);

/** Asserts `got` is the pattern starting at stream offset `offset`. */
function assertPattern(got: Uint8Array, offset: number): void {
  const start = offset % CHARGEN_PERIOD;
  const want = PATTERN.subarray(start, start + got.length);
  for (let i = 0; i < got.length; i++) {
    if (got[i] !== want[i]) {
      assert.fail(`byte ${offset + i} is ${got[i]}, the pattern has ${want[i]}`);
    }
  }
}

Deno.test("chargen over TCP streams the rotating 72-character lines (2 MB checked)", async () => {
  await withServiceEnv(makeServiceEnv({ services: ["chargen"] }), async (env) => {
    await env.run(async () => {
      const conn = await env.client.connect({ hostname: SERVER, port: 19 });
      const first = await readExactly(conn, 74 * 2);
      assert.equal(new TextDecoder().decode(first), chargenLine(0) + chargenLine(1));
      const rest = await readExactly(conn, 2 * 1024 * 1024);
      assertPattern(rest, first.length);
      conn.close(); // unread data: RST, which ends the generator
    });
    await sleep(env, ms(100));
    assert.deepEqual(
      env.server.sockets().filter((s) => s.state !== "LISTEN").map((s) => s.state),
      [],
      "the reset removed the server's connection",
    );
    assert.equal(env.counter("chargen.connections"), 1);
    assert.equal(env.counter("chargen.errors"), 0);
  });
});

Deno.test("chargen over TCP stops when the reader stops: bounded queues, then resumes", async () => {
  const sendBuffer = 65536;
  await withServiceEnv(
    makeServiceEnv({
      services: ["chargen"],
      serverPlugins: { tcp: { sendBuffer } },
      faults: { delay: ms(1) },
    }),
    async (env) => {
      const conn = await env.run(() => env.client.connect({ hostname: SERVER, port: 19 }));
      let offset = 0;
      const head = await env.run(() => readExactly(conn, 100_000));
      assertPattern(head, offset);
      offset += head.length;
      // Stop reading: the client's receive buffer fills, the server's window
      // closes, its send buffer fills, and chargen's write() waits.
      await sleep(env, ms(5_000));
      const blocked = env.counter("chargen.bytes");
      // What the client holds unread: its receive buffer grew (auto-tuning)
      // while the first 100,000 bytes were read quickly, so read it back.
      const client = env.client.sockets().find((s) => s.remote.endsWith(":19"));
      assert.ok(client !== undefined && client.recvQ <= 6 * 2 ** 20, JSON.stringify(client));
      assert.ok(
        blocked <= offset + client.recvQ + sendBuffer + 65536,
        `chargen produced ${blocked} bytes for a reader that took ${offset} (client holds ${client.recvQ})`,
      );
      // The service listens on :: (dual stack): an IPv4 peer is shown mapped, as ss shows it.
      const server = env.server.sockets().find((s) => s.local === `[::ffff:${SERVER}]:19`);
      assert.ok(server !== undefined && server.sendQ <= sendBuffer, JSON.stringify(server));
      assert.equal(server.sndWnd, 0, "the client's window is closed");
      await sleep(env, ms(20_000));
      assert.equal(env.counter("chargen.bytes"), blocked, "nothing more while nobody reads");
      // Read again: the stream continues exactly where it was.
      const more = await env.run(() => readExactly(conn, 3 * 1024 * 1024));
      assertPattern(more, offset);
      assert.ok(env.counter("chargen.bytes") >= offset + more.length);
      conn.close();
      await sleep(env, ms(100));
      assert.equal(env.server.sockets().filter((s) => s.state !== "LISTEN").length, 0);
    },
  );
});

Deno.test("chargen over UDP answers with 0..512 bytes of the pattern, lengths from the seed", async () => {
  async function lengths(seed: number): Promise<number[]> {
    const out: number[] = [];
    await withServiceEnv(makeServiceEnv({ seed, services: ["chargen"] }), async (env) => {
      const sock = env.client.listenDatagram({ transport: "udp" });
      try {
        await env.run(async () => {
          for (let i = 0; i < 20; i++) {
            await sock.send(new Uint8Array(1), { hostname: SERVER, port: 19 });
            const [data] = await sock.receive();
            assert.ok(data.length <= 512);
            const text = new TextDecoder().decode(data);
            assert.match(text, /^[\x20-\x7e\r\n]*$/);
            // The pattern from the start of line k (whose first character is 0x20 + k).
            if (data.length > 0) assertPattern(data, (data[0]! - 0x20) * 74);
            out.push(data.length);
          }
        });
      } finally {
        sock.close();
      }
      assert.equal(env.counter("chargen.datagrams"), 20);
    });
    return out;
  }
  const a = await lengths(5);
  assert.deepEqual(await lengths(5), a, "same seed, same lengths");
  assert.ok(new Set(a).size > 10, `lengths vary: ${a}`);
});
