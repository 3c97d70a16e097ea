/**
 * HyStart++ (RFC 9406) on a bottleneck: 10 Mbit/s, 10 ms each way (a
 * 25,000-byte BDP), a 75,000-byte tail-drop queue, one bulk CUBIC or
 * NewReno transfer for 2 s of virtual time, the socket table and the link's
 * drop counter sampled every 0.5 ms. Plain slow start doubles the window
 * past the pipe and the queue and loses a window's worth (CUBIC then also
 * times out). With HyStart++ (the default) the rise of the round's minimum
 * RTT ends slow start before the queue overflows: the first drop comes
 * after it, in Conservative Slow Start or congestion avoidance, and no
 * retransmission timer fires.
 */
import assert from "node:assert/strict";
import { makeLink, ms } from "../_harness.ts";
import { timedBulk } from "./_transfer.ts";

const RATE = 10_000_000;
const DELAY = ms(10);
const QUEUE = 75_000;

interface Startup {
  /** ms after the handshake when slow start ended (CSS or ssthresh set), or -1. */
  readonly exit: number;
  /** Queue drops when it ended. */
  readonly dropsAtExit: number;
  /** ms of the first drop, or -1. */
  readonly firstDrop: number;
  readonly drops: number;
  readonly timeouts: number;
  readonly states: readonly string[];
  readonly received: number;
}

async function startup(cc: string, hystart: boolean): Promise<Startup> {
  const lane = { bandwidth: RATE, delay: DELAY, queueLimit: { bytes: QUEUE } };
  const env = makeLink({
    seed: 1,
    directions: { "a->b": lane, "b->a": lane },
    plugins: { tcp: { hystart } },
  });
  let exit = -1, dropsAtExit = -1, firstDrop = -1;
  const states: string[] = [];
  const { received } = await timedBulk(env, {
    congestionControl: cc,
    duration: 2_000_000,
    every: 500,
    sample: (start) => {
      const i = env.a.sockets().find((x) => x.remote === "10.0.0.2:80");
      if (i === undefined) return false;
      const drops = env.link.stats("a->b").dropped.queue_full;
      const t = (env.net.now() - start) / 1000;
      if (firstDrop < 0 && drops > 0) firstDrop = t;
      if (states.at(-1) !== i.ccState) states.push(i.ccState!);
      if (exit < 0 && (i.ccState === "css" || i.ssthresh !== undefined)) {
        exit = t;
        dropsAtExit = drops;
      }
    },
    timeout: 600_000_000,
  });
  const drops = env.link.stats("a->b").dropped.queue_full;
  const timeouts = env.a.counters.value("tcp.timeouts");
  env.finish();
  return { exit, dropsAtExit, firstDrop, drops, timeouts, states, received };
}

for (const cc of ["cubic", "newreno"]) {
  Deno.test(`tcp ${cc} slow start + rising RTT with HyStart++ → leaves slow start before the queue overflows, no RTO`, async () => {
    const on = await startup(cc, true);
    const off = await startup(cc, false);
    const why = `on ${JSON.stringify(on)}\noff ${JSON.stringify(off)}`;
    // With HyStart++: CSS before any loss, and no timeout at all.
    assert.ok(on.exit > 0 && on.dropsAtExit === 0, `HyStart++ exit before loss: ${why}`);
    assert.ok(on.states.includes("css"), `went through CSS: ${why}`);
    assert.ok(on.firstDrop < 0 || on.firstDrop > on.exit, why);
    assert.equal(on.timeouts, 0, `no RTO with HyStart++: ${why}`);
    // Without: the first loss comes in slow start, and many more drops.
    assert.ok(off.firstDrop > 0 && off.firstDrop < off.exit && off.dropsAtExit > 0, why);
    assert.ok(off.drops > 3 * on.drops, `drops ${on.drops} with, ${off.drops} without: ${why}`);
    // (Before RACK-TLP, plain CUBIC also took an RTO here; RACK now repairs the overshoot without one.)
    assert.ok(on.received > 0 && off.received > 0);
  });
}
