/**
 * Review of the iperf3 service's session-12 changes: forward TCP streams
 * consumed with `TcpConn.discard` must report what reading them reports
 * (`copyReceived`), and reverse TCP streams written in ~1 MiB bursts must
 * still stop soon after a timed (`-t`) test's TEST_END: the bytes sent
 * after it are bounded by what was queued, and the JSON results count
 * every byte the client got.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { TcpConn } from "../../mod.ts";
import { State } from "../../plugins/services/iperf3/protocol.ts";
import { ms } from "../_harness.ts";
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
const COOKIE = bytes("reviewreviewreviewreviewreviewrevie2\0");

/** The control exchange up to TEST_RUNNING; returns the control connection and the streams. */
async function start(
  env: ServiceEnv,
  params: Record<string, unknown>,
  parallel: number,
): Promise<{ ctrl: TcpConn; streams: TcpConn[] }> {
  const ctrl = await env.client.connect({ hostname: SERVER, port: PORT });
  await writeAll(ctrl, COOKIE);
  await expectState(ctrl, State.PARAM_EXCHANGE);
  await writeAll(ctrl, framed({ tcp: true, parallel, client_version: "3.12", ...params }));
  await expectState(ctrl, State.CREATE_STREAMS);
  const streams: TcpConn[] = [];
  for (let i = 0; i < parallel; i++) {
    const s = await env.client.connect({ hostname: SERVER, port: PORT });
    await writeAll(s, COOKIE);
    streams.push(s);
  }
  await expectState(ctrl, State.TEST_START);
  await expectState(ctrl, State.TEST_RUNNING);
  return { ctrl, streams };
}

/** TEST_END through IPERF_DONE; returns the server's per-stream bytes. */
async function finish(ctrl: TcpConn, streams: TcpConn[]): Promise<number[]> {
  await writeAll(ctrl, Uint8Array.of(State.TEST_END));
  await expectState(ctrl, State.EXCHANGE_RESULTS);
  await writeAll(ctrl, framed({ cpu_util_total: 1, streams: [] }));
  const results = await readFramed(ctrl);
  await expectState(ctrl, State.DISPLAY_RESULTS);
  await writeAll(ctrl, Uint8Array.of(State.IPERF_DONE));
  assert.equal(await ctrl.read(new Uint8Array(1)), null);
  for (const s of [...streams, ctrl]) s.close();
  return (results.streams as { bytes: number }[]).map((s) => s.bytes);
}

for (const copyReceived of [false, true]) {
  Deno.test(`iperf3 review: forward -n over three streams counts every byte (copyReceived ${copyReceived})`, async () => {
    const env = makeServiceEnv({
      services: ["iperf3"],
      options: { iperf3: { copyReceived } },
      faults: { delay: ms(1), loss: 0.01 },
    });
    await withServiceEnv(env, async (env) => {
      const got = await env.run(async () => {
        const { ctrl, streams } = await start(env, { num: 3_000_003, len: 1000 }, 3);
        // Uneven streams (iperf3 splits -n by blocks): 1,000,001 each.
        await Promise.all(streams.map((s, i) => writeAll(s, new Uint8Array(1_000_000 + i))));
        await delay(env, ms(2_000)); // everything arrived (losses repaired)
        return await finish(ctrl, streams);
      });
      assert.deepEqual(got, [1_000_000, 1_000_001, 1_000_002]);
      assert.equal(env.counter("iperf3.bytes"), 3_000_003);
      // Discarding held nothing back: the server's pools are whole (finish() checks).
    });
  });
}

Deno.test("iperf3 review: reverse -t over a 100 Mbit/s link stops soon after TEST_END; the results count every byte the client got", async () => {
  const env = makeServiceEnv({
    services: ["iperf3"],
    faults: { delay: ms(2), bandwidth: 100_000_000 },
  });
  await withServiceEnv(env, async (env) => {
    const r = await env.run(async () => {
      const { ctrl, streams } = await start(env, { time: 1, reverse: true, len: 131072 }, 2);
      const got = streams.map(() => 0);
      let ended = -1;
      const atEnd: number[] = [];
      const reading = Promise.all(streams.map(async (s, i) => {
        const buf = new Uint8Array(65536);
        for (;;) {
          const n = await s.read(buf);
          if (n === null) return env.net.now();
          got[i]! += n;
        }
      }));
      await delay(env, ms(1_000));
      ended = env.net.now();
      atEnd.push(...got);
      const results = await finish(ctrl, []);
      const fins = await reading;
      for (const s of streams) s.close();
      return { got, atEnd, results, ended, fins };
    });
    const total = r.got.reduce((a, n) => a + n, 0);
    assert.ok(total > 5_000_000, `${total} bytes in 1 s at 100 Mbit/s`);
    // After TEST_END each stream got at most what was queued: its send
    // buffer and window in flight, and the rest of one burst (1 MiB).
    for (let i = 0; i < 2; i++) {
      const late = r.got[i]! - r.atEnd[i]!;
      assert.ok(late <= 3 << 20, `stream ${i}: ${late} bytes after TEST_END`);
      const lateMs = (r.fins[i]! - r.ended) / 1000;
      assert.ok(lateMs < 500, `stream ${i}: FIN ${lateMs} ms after TEST_END`);
    }
    // The JSON counts what the service wrote; the client got all of it.
    assert.deepEqual(r.results, r.got, "results per stream = bytes the client received");
  });
});
