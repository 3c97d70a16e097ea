/**
 * Connections to the stack's own addresses: IPv4 delivers such segments
 * inside the sender's call, so the SYN-ACK reaches the connecting endpoint
 * while it is still sending its SYN. Its state (SND.NXT = ISS + 1, the
 * retransmission timer) must be set before the send (regression test: the
 * SYN-ACK was taken for an "ACK of unsent data", answered with RST, and the
 * connection made only by the SYN resent 1 s later).
 */
import assert from "node:assert/strict";
import { makeLink, ms } from "../_harness.ts";
import type { Stack } from "../../mod.ts";
import { LOCAL_MSS } from "../../stack/protocols/tcp/core.ts";
import { pattern } from "./_tcp.ts";

/** SYN, SYN-ACK, ACK. */
const HANDSHAKE_SEGMENTS = 3; // SYN, SYN-ACK, ACK

async function selfConnect(
  stack: Stack,
  env: { run<T>(f: () => Promise<T>): Promise<T> },
  hostname: string,
) {
  const l = stack.listen({ port: 7000 });
  const counter = (name: string) => stack.counters.get(name).value;
  const segs0 = counter("tcp.out_segs");
  const [c, s] = await env.run(() =>
    Promise.all([stack.connect({ hostname, port: 7000 }), l.accept()])
  );
  const handshake = counter("tcp.out_segs") - segs0;
  // Segments that never leave the stack are as large as IPv4 allows (as
  // Linux's lo): 65495 bytes less the timestamp option.
  const info = stack.sockets().find((x) => x.state === "ESTABLISHED")!;
  assert.equal(info.mss, LOCAL_MSS - 12);
  const data = pattern(8_000_000);
  const got = await env.run(async () => {
    const [, received] = await Promise.all([
      (async () => {
        let off = 0;
        while (off < data.length) off += await c.write(data.subarray(off));
        await c.closeWrite();
      })(),
      (async () => {
        const out = new Uint8Array(data.length + 1);
        let n = 0;
        for (;;) {
          const r = await s.read(out.subarray(n));
          if (r === null) return out.subarray(0, n);
          n += r;
        }
      })(),
    ]);
    return received;
  });
  assert.equal(got.length, data.length);
  assert.ok(got.every((b, i) => b === data[i]), "the bytes arrive intact");
  c.close();
  s.close();
  l.close();
  return handshake;
}

const TARGETS: readonly (readonly [string, string])[] = [
  ["our own address", "10.0.0.1"],
  ["127.0.0.1", "127.0.0.1"],
];

for (const [what, hostname] of TARGETS) {
  Deno.test(`tcp SYN-SENT to ${what} + loopback SYN-ACK → ESTABLISHED at once: one SYN, no RST, no retransmission`, async () => {
    const env = makeLink({ seed: 3 });
    const a = env.a;
    const t0 = env.net.now();
    const handshake = await selfConnect(a, env, hostname);
    const counter = (name: string) => a.counters.get(name).value;
    assert.equal(env.net.now(), t0, "no time passed: nothing waited for a timer");
    assert.equal(handshake, HANDSHAKE_SEGMENTS, "SYN, SYN-ACK, ACK and nothing else");
    assert.equal(counter("tcp.rx.bad_ack"), 0, "the SYN-ACK acknowledges what was sent");
    assert.equal(counter("tcp.out_rsts"), 0);
    assert.equal(counter("tcp.retrans_segs"), 0);
    assert.equal(counter("tcp.active_opens"), 1);
    assert.equal(counter("tcp.passive_opens"), 1);
    assert.equal(env.b.counters.get("tcp.in_segs").value, 0, "nothing went out on the link");
    env.finish();
  });
}

Deno.test("tcp ESTABLISHED to 127.0.0.1 + two full segments written from the API → ACKed at once, not by the delayed-ACK timer", async () => {
  const env = makeLink({ seed: 4, plugins: { tcp: { quickAcks: 0 } } });
  const a = env.a;
  const l = a.listen({ port: 7000 });
  const [c, s] = await env.run(() =>
    Promise.all([a.connect({ hostname: "127.0.0.1", port: 7000 }), l.accept()])
  );
  const sendQ = () => a.sockets().find((x) => x.remote === "127.0.0.1:7000")!.sendQ;
  // A lone small segment waits for the delayed-ACK timer; the ACK opens the
  // (scaled) window past the SYN's 64 KiB.
  await c.write(pattern(1000));
  env.runFor(ms(50));
  assert.equal(sendQ(), 0);
  // Two full segments, delivered to ourselves inside write(): the ACK owed
  // for them goes out when that delivery ends (the dispatcher flushes a
  // delivery made outside any receive), with no time passing.
  const t0 = env.net.now();
  const mss = LOCAL_MSS - 12;
  assert.equal(await c.write(pattern(2 * mss)), 2 * mss);
  assert.equal(sendQ(), 0, "both segments acknowledged");
  assert.equal(env.net.now(), t0);
  c.close();
  s.close();
  l.close();
  env.finish();
});
