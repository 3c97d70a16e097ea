/**
 * Edges of `tcp.memory_pressure_us` (e973eb7): pressure that ends after a
 * long silent stretch of virtual time (the clock jumping from timer to
 * timer) is counted whole, to the µs it ended; read during an episode
 * without any traffic, it shows the time so far (and after a counter reset
 * the time since, with the gauges still current); a stack closed mid-episode
 * keeps the user's unread store on the account until the user closes it,
 * which ends the episode; nothing is counted after.
 */
import assert from "node:assert/strict";
import { makeLink, ms } from "../_harness.ts";
import type { LinkPair } from "../_harness.ts";
import type { TcpConn } from "../../stack/sockets/types.ts";
import { counter, idle, stalledPair } from "./_memory.ts";

const KIB = 1024;
/** Small limits: one connection with 256 KiB unread puts b under pressure. */
const LIMITS = { memoryLow: 64 * KIB, memoryPressure: 128 * KIB, memoryHigh: 512 * KIB };

/**
 * A connection a→b whose b side does not read, a writing 256 KiB: b's
 * account fills. Resolves once b is under pressure, with the instant it
 * began (sampled every 100 µs, then no more sampling: the network is left
 * to jump from timer to timer).
 */
async function pressure(env: LinkPair): Promise<{ c: TcpConn; s: TcpConn; began: number }> {
  await env.run(() => env.a.ping("10.0.0.2"));
  const { c, s } = await stalledPair(env);
  const began = await env.run(() =>
    new Promise<number>((resolve) => {
      const sample = () => {
        if (counter(env.b, "memory_pressures") > 0) resolve(env.net.now());
        else env.net.at(env.net.now() + 100, sample);
      };
      sample();
    })
  );
  return { c, s, began };
}

Deno.test("tcp.memory_pressure_us: an episode ended after a silent minute of virtual time is counted whole", async () => {
  const env = makeLink({ seed: 3, faults: { delay: ms(5) }, plugins: { tcp: LIMITS } });
  const { c, s, began } = await pressure(env);
  await idle(env, ms(60_000)); // a's zero-window probes back off: few events
  assert.equal(counter(env.b, "memory_pressures"), 1);
  const ended = env.net.now();
  s.close(); // unread data: b resets; its store goes back to the account now
  assert.ok(counter(env.b, "memory_allocated") <= LIMITS.memoryLow);
  const counted = counter(env.b, "memory_pressure_us");
  assert.ok(
    Math.abs(counted - (ended - began)) <= 100,
    `counted ${counted} µs, lasted ${ended - began} µs`,
  );
  await idle(env, ms(10_000));
  c.close();
  assert.equal(counter(env.b, "memory_pressure_us"), counted, "nothing counted after the episode");
  env.runFor(ms(70_000));
  env.finish();
});

Deno.test("tcp.memory_pressure_us: read during an episode without traffic, it shows the time so far", async () => {
  const env = makeLink({ seed: 5, faults: { delay: ms(5) }, plugins: { tcp: LIMITS } });
  const { c, s, began } = await pressure(env);
  await idle(env, ms(50));
  env.link.partition(); // nothing reaches b any more: no event updates its account
  const cut = env.net.now();
  const before = counter(env.b, "memory_pressure_us");
  const silent = ms(30_000);
  await idle(env, silent);
  assert.equal(counter(env.b, "memory_pressures"), 1, "still the one episode");
  const read = counter(env.b, "memory_pressure_us");
  assert.ok(read - before >= silent, `read ${read} µs, ${before} at the cut, ${silent} µs since`);
  assert.ok(
    Math.abs(read - (env.net.now() - began)) <= 100,
    `read ${read} µs, under pressure for ${env.net.now() - began} µs`,
  );
  // The counter table (what the CLI prints) reads it current too.
  await idle(env, ms(1_000));
  const row = env.b.counterTable().match(/memory_pressure_us +(\d+)/);
  assert.ok(row !== null && Number(row[1]) >= env.net.now() - cut, row?.[0]);
  // A counter reset: the time so far is zeroed and counted again from there;
  // the gauges read current, not zero.
  const allocated = counter(env.b, "memory_allocated");
  env.b.counters.reset();
  assert.equal(counter(env.b, "memory_allocated"), allocated);
  assert.ok(counter(env.b, "memory_peak") >= allocated);
  await idle(env, ms(2_000));
  const since = counter(env.b, "memory_pressure_us");
  assert.ok(Math.abs(since - ms(2_000)) <= 100, `${since} µs since the reset`);
  env.link.heal();
  s.close();
  c.close();
  env.runFor(ms(70_000));
  env.finish();
});

Deno.test("tcp.memory_pressure_us: a stack closed under pressure keeps the unread store (still readable) until the user closes it; the episode ends then", async () => {
  const env = makeLink({ seed: 4, faults: { delay: ms(5) }, plugins: { tcp: LIMITS } });
  const { s, began } = await pressure(env);
  await idle(env, ms(2_000));
  const held = counter(env.b, "memory_allocated");
  env.b.close(); // teardown: the connection is destroyed, its unread bytes stay the user's
  // Held segments go back to their pool at teardown and their bytes into a
  // store of their own (`ReceiveQueue.copyHeld`): the account may shrink from
  // whole buffers to the unread bytes, but stays on, above memoryPressure.
  const kept = counter(env.b, "memory_allocated");
  assert.ok(kept > LIMITS.memoryPressure && kept <= held, `kept ${kept} of ${held}`);
  env.runFor(ms(5_000)); // the clock goes on; nothing of b's runs
  const closedAt = env.net.now();
  s.close();
  assert.equal(counter(env.b, "memory_allocated"), 0, "every store given back");
  const counted = counter(env.b, "memory_pressure_us");
  assert.ok(
    Math.abs(counted - (closedAt - began)) <= 100,
    `counted ${counted} µs, lasted ${closedAt - began} µs`,
  );
  env.runFor(ms(70_000)); // a's side times out against a closed host
  assert.equal(counter(env.b, "memory_pressure_us"), counted);
  env.finish();
});
