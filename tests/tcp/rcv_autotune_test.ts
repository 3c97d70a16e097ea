/**
 * Receive-buffer auto-tuning between two stacks on a 100 ms RTT link: a bulk
 * transfer's window grows past the initial 256 KiB (up to receiveBufferMax)
 * and the transfer ends sooner in virtual time than with auto-tuning off; a
 * receiver that does not read, or reads slowly, keeps the initial buffer.
 */
import assert from "node:assert/strict";
import { makeLink, ms } from "../_harness.ts";
import { pattern } from "./_tcp.ts";

const INITIAL = 262_144; // the default receive buffer
const MAX = 6 << 20; // the default receiveBufferMax (Linux tcp_rmem[2])
const TOTAL = 32 << 20;
const ROUNDING = 1024;

/** Moves TOTAL bytes a→b; returns the virtual time taken and b's largest advertised window. */
async function bulk(
  receiveBufferMax: number,
): Promise<{ took: number; maxWnd: number; maxQ: number; rcvRtt: number | undefined }> {
  const env = makeLink({
    seed: 3,
    faults: { delay: ms(50) },
    // The sender's buffer must not be what limits the flight.
    plugins: { tcp: { sendBuffer: 16 << 20, receiveBufferMax } },
  });
  await env.run(() => env.a.ping("10.0.0.2"));
  const l = env.b.listen({ port: 80 });
  let maxWnd = 0, maxQ = 0, took = 0;
  let rcvRtt: number | undefined;
  await env.run(async () => {
    const [c, s] = await Promise.all([
      env.a.connect({ hostname: "10.0.0.2", port: 80 }),
      l.accept(),
    ]);
    const start = env.net.now();
    const sample = () => {
      const i = env.b.sockets().find((x) => x.local === "10.0.0.2:80");
      if (i === undefined) return;
      maxWnd = Math.max(maxWnd, i.rcvWnd ?? 0);
      maxQ = Math.max(maxQ, i.recvQ);
      rcvRtt = i.rcvRtt ?? rcvRtt;
      env.net.at(env.net.now() + ms(10), sample);
    };
    sample();
    const chunk = pattern(65536);
    const writer = (async () => {
      for (let sent = 0; sent < TOTAL;) {
        sent += await c.write(chunk.subarray(0, Math.min(65536, TOTAL - sent)));
      }
      await c.closeWrite();
    })();
    const buf = new Uint8Array(65536);
    let got = 0;
    for (;;) {
      const n = await s.read(buf);
      if (n === null) break;
      got += n;
    }
    took = env.net.now() - start;
    assert.equal(got, TOTAL);
    await writer;
    c.close();
    s.close();
  }, { timeout: 600_000_000 });
  l.close();
  env.finish();
  return { took, maxWnd, maxQ, rcvRtt };
}

Deno.test("tcp receive auto-tuning: a bulk transfer over 100 ms RTT grows the window past 256 KiB and finishes sooner", async () => {
  const on = await bulk(MAX);
  const off = await bulk(INITIAL);
  assert.ok(off.maxWnd <= INITIAL, `off: window ${off.maxWnd}`);
  assert.ok(on.maxWnd > INITIAL, `on: window ${on.maxWnd}`);
  assert.ok(on.maxWnd <= MAX && on.maxQ <= MAX, `on: window ${on.maxWnd}, queue ${on.maxQ}`);
  // Off: 256 KiB per RTT, ≈ 12.8 s for 32 MiB; on: several times less.
  assert.ok(off.took > 10_000_000, `off took ${off.took} µs`);
  assert.ok(on.took * 3 < off.took, `on took ${on.took} µs, off ${off.took} µs`);
  // The receiver measured the RTT from echoed timestamps (segments taking the
  // header-prediction path included): 100 ms, plus queueing.
  assert.ok(on.rcvRtt !== undefined && on.rcvRtt >= 100 && on.rcvRtt < 150, `rcv_rtt ${on.rcvRtt}`);
});

Deno.test("tcp receive auto-tuning: a receiver that does not read, then reads slowly, keeps the initial buffer", async () => {
  const env = makeLink({
    seed: 4,
    faults: { delay: ms(50) },
    plugins: { tcp: { sendBuffer: 4 << 20 } },
  });
  await env.run(() => env.a.ping("10.0.0.2"));
  const l = env.b.listen({ port: 80 });
  const [c, s] = await env.run(() =>
    Promise.all([env.a.connect({ hostname: "10.0.0.2", port: 80 }), l.accept()])
  );
  l.close();
  let written = 0;
  const chunk = pattern(65536);
  const writer = (async () => {
    for (;;) written += await c.write(chunk);
  })().catch(() => {});
  const bInfo = () => env.b.sockets().find((x) => x.local === "10.0.0.2:80")!;
  // 5 s of not reading: the receiver holds its initial buffer (plus the
  // bytes of a closing window rounded up to 128-byte units, as Linux).
  await env.run(async () => {
    for (let i = 0; i < 50; i++) {
      await new Promise<void>((r) => env.net.at(env.net.now() + ms(100), r));
    }
  });
  const held = bInfo().recvQ;
  assert.ok(held >= INITIAL && held < INITIAL + ROUNDING, `holds ${held}`);
  assert.equal(bInfo().rcvWnd, 0);
  // 10 s of reading 16 KiB per RTT: the drain never asks for more than 256 KiB.
  let maxWnd = 0, maxQ = 0;
  await env.run(async () => {
    const buf = new Uint8Array(16_384);
    for (let i = 0; i < 100; i++) {
      await s.read(buf);
      await new Promise<void>((r) => env.net.at(env.net.now() + ms(100), r));
      maxWnd = Math.max(maxWnd, bInfo().rcvWnd ?? 0);
      maxQ = Math.max(maxQ, bInfo().recvQ);
    }
  });
  assert.ok(written > INITIAL);
  assert.ok(maxWnd <= INITIAL, `window ${maxWnd}`);
  assert.ok(maxQ <= held, `queue ${maxQ}`);
  s.close();
  c.close();
  await env.run(() => writer);
  env.finish();
});
