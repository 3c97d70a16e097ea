/**
 * The iperf3 service on the virtual network, driven by a small client
 * written here from iperf3's control protocol (cookie, PARAM_EXCHANGE, JSON
 * parameters, CREATE_STREAMS, TEST_START/RUNNING, TEST_END, the results
 * exchange, IPERF_DONE): TCP forward and reverse with parallel streams and
 * `-n`, UDP with loss on the link (loss and jitter in the results), a busy
 * server, stalled clients timed out on virtual time, and seeded malformed
 * control input that never crashes it. The real `iperf3 -c` runs against it
 * in tests/interop/iperf3_tun_test.ts.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { TcpConn } from "../../mod.ts";
import { State, writeUdpHeader } from "../../plugins/services/iperf3/protocol.ts";
import { ms, xorshift32 } from "../_harness.ts";
import {
  bytes,
  delay,
  makeServiceEnv,
  SERVER,
  type ServiceEnv,
  withServiceEnv,
  writeAll,
} from "./_services.ts";
import { expectState, framed, readFramed } from "./_iperf3.ts";

const PORT = 5201;
const COOKIE = bytes("abcdefghijklmnopqrstuvwxyz2345672345\0");

interface ServerStream {
  readonly id: number;
  readonly bytes: number;
  readonly packets: number;
  readonly errors: number;
  readonly jitter: number;
}

/** Runs one TCP test as iperf3 -c would, by bytes (`-n`); returns the server's results. */
async function tcpTest(
  env: ServiceEnv,
  o: {
    readonly parallel: number;
    readonly reverse: boolean;
    /** -n (bytes), or with `blocks` -k (blocks). */
    readonly total: number;
    readonly blocks?: boolean;
    /** -l (default 16384). */
    readonly len?: number;
    /** Reverse: sees each stream's bytes as they come, with their offset in the stream. */
    readonly onData?: (chunk: Uint8Array, offset: number) => void;
  },
): Promise<{ streams: ServerStream[]; clientBytes: number }> {
  const ctrl = await env.client.connect({ hostname: SERVER, port: PORT });
  await writeAll(ctrl, COOKIE);
  await expectState(ctrl, State.PARAM_EXCHANGE, "after the cookie");
  await writeAll(
    ctrl,
    framed({
      tcp: true,
      num: o.blocks ? undefined : o.total,
      blockcount: o.blocks ? o.total : undefined,
      parallel: o.parallel,
      len: o.len ?? 16384,
      reverse: o.reverse ? true : undefined,
      client_version: "3.12",
    }),
  );
  await expectState(ctrl, State.CREATE_STREAMS, "after the parameters");
  const streams: TcpConn[] = [];
  for (let i = 0; i < o.parallel; i++) {
    const s = await env.client.connect({ hostname: SERVER, port: PORT });
    await writeAll(s, COOKIE);
    streams.push(s);
  }
  await expectState(ctrl, State.TEST_START, "streams made");
  await expectState(ctrl, State.TEST_RUNNING, "test started");
  let clientBytes = 0;
  if (!o.reverse) {
    const each = o.total / o.parallel;
    await Promise.all(streams.map((s) => writeAll(s, new Uint8Array(each))));
    clientBytes = o.total;
    // Let the data arrive before TEST_END (iperf3 does not wait: the server counts what came).
    await delay(env, ms(200));
  } else {
    const buf = new Uint8Array(65536);
    await Promise.all(streams.map(async (s) => {
      for (let offset = 0;;) {
        const n = await s.read(buf);
        if (n === null) return;
        o.onData?.(buf.subarray(0, n), offset);
        offset += n;
        clientBytes += n;
      }
    }));
  }
  await writeAll(ctrl, Uint8Array.of(State.TEST_END));
  await expectState(ctrl, State.EXCHANGE_RESULTS, "after TEST_END");
  await writeAll(ctrl, framed({ cpu_util_total: 1, streams: [] }));
  const results = await readFramed(ctrl);
  await expectState(ctrl, State.DISPLAY_RESULTS, "after the results");
  await writeAll(ctrl, Uint8Array.of(State.IPERF_DONE));
  assert.equal(
    await ctrl.read(new Uint8Array(1)),
    null,
    "the server closes the control connection",
  );
  for (const s of [...streams, ctrl]) s.close();
  for (
    const k of ["cpu_util_total", "cpu_util_user", "cpu_util_system", "sender_has_retransmits"]
  ) {
    assert.equal(typeof results[k], "number", k);
  }
  return { streams: results.streams as ServerStream[], clientBytes };
}

Deno.test("iperf3: a TCP test by bytes with two streams: the server counts every byte", async () => {
  await withServiceEnv(makeServiceEnv({ services: ["iperf3"] }), async (env) => {
    const r = await env.run(() => tcpTest(env, { parallel: 2, reverse: false, total: 4_000_000 }));
    assert.deepEqual(r.streams.map((s) => s.id), [1, 3], "iperf3's stream ids");
    assert.deepEqual(r.streams.map((s) => s.bytes), [2_000_000, 2_000_000]);
    assert.equal(env.counter("iperf3.bytes"), 4_000_000);
    assert.equal(env.counter("iperf3.tests"), 1);
    assert.equal(env.counter("iperf3.errors"), 0);
  });
});

Deno.test("iperf3: reverse (-R -n) sends exactly -n bytes over three streams, then FIN", async () => {
  await withServiceEnv(makeServiceEnv({ services: ["iperf3"] }), async (env) => {
    const r = await env.run(() => tcpTest(env, { parallel: 3, reverse: true, total: 3_000_000 }));
    assert.equal(r.clientBytes, 3_000_000);
    assert.equal(r.streams.reduce((a, s) => a + s.bytes, 0), 3_000_000);
    assert.deepEqual(r.streams.map((s) => s.id), [1, 3, 4]);
    // A second test after the first: the server is free again.
    await env.run(() => tcpTest(env, { parallel: 1, reverse: false, total: 100_000 }));
    assert.equal(env.counter("iperf3.tests"), 2);
  });
});

Deno.test("iperf3: reverse TCP sends whole -l blocks in bursts: the same block again and again, -n and -k exact", async () => {
  await withServiceEnv(makeServiceEnv({ services: ["iperf3"] }), async (env) => {
    // -l 1000, -n 2,500,500: two 1,000,000-byte bursts and a cut one (half a block at the end).
    let checked = 0;
    const r = await env.run(() =>
      tcpTest(env, {
        parallel: 1,
        reverse: true,
        total: 2_500_500,
        len: 1000,
        onData(chunk, offset) {
          for (let i = 0; i < chunk.length; i++) {
            // Byte j of every block is the service's pattern byte j.
            const j = (offset + i) % 1000;
            if (chunk[i] !== ((j * 31 + 7) & 0xff)) {
              assert.fail(`stream byte ${offset + i} is ${chunk[i]}`);
            }
          }
          checked += chunk.length;
        },
      })
    );
    assert.equal(r.clientBytes, 2_500_500);
    assert.equal(checked, 2_500_500);
    // -k 2,100 blocks of 1,000 over three streams: 2,100,000 bytes in all.
    const k = await env.run(() =>
      tcpTest(env, { parallel: 3, reverse: true, total: 2100, blocks: true, len: 1000 })
    );
    assert.equal(k.clientBytes, 2_100_000);
    assert.equal(k.streams.reduce((a, s) => a + s.bytes, 0), 2_100_000);
  });
});

Deno.test("iperf3: UDP with 5% loss on the link: the server reports the loss and jitter", async () => {
  await withServiceEnv(
    makeServiceEnv({ services: ["iperf3"], faults: { loss: 0.05, delay: ms(1), jitter: ms(1) } }),
    async (env) => {
      const r = await env.run(async () => {
        const ctrl = await env.client.connect({ hostname: SERVER, port: PORT });
        await writeAll(ctrl, COOKIE);
        await expectState(ctrl, State.PARAM_EXCHANGE, "cookie");
        await writeAll(
          ctrl,
          framed({ udp: true, time: 1, parallel: 1, len: 1000, bandwidth: 8e6 }),
        );
        await expectState(ctrl, State.CREATE_STREAMS, "params");
        const sock = env.client.listenDatagram({ transport: "udp" });
        const to = { hostname: SERVER, port: PORT };
        // The connect datagram may be lost too: send it until answered.
        let answered = false;
        for (let i = 0; i < 20 && !answered; i++) {
          await sock.send(Uint8Array.of(0x39, 0x38, 0x37, 0x36), to);
          const got = await Promise.race([
            sock.receive().then(([d]) => d),
            delay(env, ms(100)).then(() => null),
          ]);
          answered = got !== null && got.length === 4;
        }
        assert.ok(answered, "the server answered the UDP connect");
        await expectState(ctrl, State.TEST_START, "stream");
        await expectState(ctrl, State.TEST_RUNNING, "start");
        const d = new Uint8Array(1000);
        for (let seq = 1; seq <= 1000; seq++) {
          writeUdpHeader(d, env.net.now(), seq, false);
          await sock.send(d, to);
          await delay(env, ms(1));
        }
        await delay(env, ms(50));
        await writeAll(ctrl, Uint8Array.of(State.TEST_END));
        await expectState(ctrl, State.EXCHANGE_RESULTS, "end");
        await writeAll(ctrl, framed({ streams: [] }));
        const results = await readFramed(ctrl);
        await expectState(ctrl, State.DISPLAY_RESULTS, "results");
        await writeAll(ctrl, Uint8Array.of(State.IPERF_DONE));
        ctrl.close();
        sock.close();
        return (results.streams as ServerStream[])[0]!;
      });
      const received = env.counter("iperf3.bytes") / 1000;
      // Loss at the tail is not seen as loss (nothing came after it): at most a few.
      assert.ok(r.packets <= 1000 && r.packets > 990, `packets ${r.packets}`);
      assert.equal(r.errors, r.packets - received, "loss = highest sequence - received");
      assert.ok(r.errors > 20 && r.errors < 90, `lost ${r.errors} of 1000 at 5%`);
      assert.ok(r.jitter > 0 && r.jitter < 0.002, `jitter ${r.jitter} s with ±1 ms on the link`);
    },
  );
});

Deno.test("iperf3: a second client during a test gets ACCESS_DENIED; a stalled one times out", async () => {
  await withServiceEnv(
    makeServiceEnv({ services: ["iperf3"], options: { iperf3: { controlTimeoutMs: 2000 } } }),
    async (env) => {
      await env.run(async () => {
        const first = await env.client.connect({ hostname: SERVER, port: PORT });
        await writeAll(first, COOKIE);
        await expectState(first, State.PARAM_EXCHANGE, "first");
        const second = await env.client.connect({ hostname: SERVER, port: PORT });
        await writeAll(second, bytes("zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz\0"));
        await expectState(second, State.ACCESS_DENIED, "second");
        second.close();
        // The first never sends its parameters: after 2 s the server gives up on it.
        assert.equal(await first.read(new Uint8Array(16)).catch(() => null), null);
        first.close();
        await delay(env, ms(100));
        const third = await env.client.connect({ hostname: SERVER, port: PORT });
        await writeAll(third, COOKIE);
        await expectState(third, State.PARAM_EXCHANGE, "after the time-out");
        third.close();
      });
      assert.equal(env.counter("iperf3.busy"), 1);
      assert.equal(env.counter("iperf3.timeouts"), 1);
    },
  );
});

Deno.test("iperf3: 300 seeded malformed control exchanges never crash it; a real test follows", async () => {
  await withServiceEnv(
    makeServiceEnv({ services: ["iperf3"], options: { iperf3: { controlTimeoutMs: 500 } } }),
    async (env) => {
      const next = xorshift32(13); // seeded: the fuzz cases repeat
      const valid = [
        ...COOKIE,
        ...framed({ tcp: true, time: 1, parallel: 2, len: 1000 }),
      ];
      const cases: Uint8Array[] = [];
      for (let i = 0; i < 300; i++) {
        const b = [...valid];
        switch (next() % 5) {
          case 0: // cut short anywhere
            b.length = next() % b.length;
            break;
          case 1: // flip bytes
            for (let k = 0; k < 1 + (next() % 4); k++) b[next() % b.length] = next() & 0xff;
            break;
          case 2: // a random length prefix
            for (let k = 0; k < 4; k++) b[COOKIE.length + k] = next() & 0xff;
            break;
          case 3: { // JSON of the wrong shape or values
            const bad = [
              "[]",
              "null",
              '{"tcp":true,"parallel":100000}',
              '{"tcp":true,"len":-1}',
              '{"udp":true,"tcp":true}',
              '{"tcp":"yes"}',
              '{"tcp":true,"time":1e300}',
              '{"tcp":true,"bidirectional":true}',
              '{"sctp":true}',
              "{",
            ][next() % 10]!;
            b.length = COOKIE.length;
            const body = bytes(bad);
            b.push(0, 0, body.length >> 8, body.length & 0xff, ...body);
            break;
          }
          default: // random garbage
            b.length = next() % 200;
            for (let k = 0; k < b.length; k++) b[k] = next() & 0xff;
        }
        cases.push(Uint8Array.from(b));
      }
      await env.run(async () => {
        for (const c of cases) {
          const conn = await env.client.connect({ hostname: SERVER, port: PORT });
          await writeAll(conn, c);
          await conn.closeWrite();
          // Whatever it answers, it ends the connection (at the latest on its time-out).
          const sink = new Uint8Array(64);
          while ((await conn.read(sink).catch(() => null)) !== null) { /* answer */ }
          conn.close();
        }
      });
      assert.equal(env.counter("iperf3.errors"), 0);
      assert.ok(
        env.counter("iperf3.malformed") > 100,
        `malformed ${env.counter("iperf3.malformed")}`,
      );
      const r = await env.run(() => tcpTest(env, { parallel: 1, reverse: false, total: 200_000 }));
      assert.equal(r.streams[0]!.bytes, 200_000);
    },
  );
});
