/**
 * Fast Open data (RFC 7413) and the stack's TCP memory (`memory.ts`): under
 * memory pressure the data a SYN carries is refused like any other growth
 * (`tcp.tfo_syn_data_mem_refused`), the handshake still completes and the
 * client sends the data again (§4.2.2); once pressure is over it is taken
 * again. `tcp.memory_pressure_us` counts the virtual time pressure lasted.
 */
import assert from "node:assert/strict";
import { makeLink, ms } from "../_harness.ts";
import { fastOpenRequest } from "./_tcp.ts";
import { counter, idle, stalledPair } from "./_memory.ts";

const KIB = 1024;
/** Small limits: one connection with 256 KiB unread puts b under pressure. */
const LIMITS = { memoryLow: 64 * KIB, memoryPressure: 128 * KIB, memoryHigh: 512 * KIB };

Deno.test("tcp Fast Open under memory pressure: SYN data refused and counted, the handshake completes, the client sends it again; taken again once pressure ends", async () => {
  const env = makeLink({ seed: 7, faults: { delay: ms(5) }, plugins: { tcp: LIMITS } });
  await env.run(() => env.a.ping("10.0.0.2"));
  const l = env.b.listen({ port: 80, fastOpen: 8 });
  await fastOpenRequest(env, l, "cookie, please"); // a cookie request: a caches b's cookie
  assert.equal(counter(env.b, "tfo_cookie_sent"), 1);

  // Pressure: note when it starts and ends (sampled every ms).
  let started = -1, ended = -1;
  const sample = () => {
    if (started < 0 && counter(env.b, "memory_pressures") > 0) started = env.net.now();
    if (started >= 0 && ended < 0 && counter(env.b, "memory_allocated") <= LIMITS.memoryLow) {
      ended = env.net.now();
    }
    if (ended < 0) env.net.at(env.net.now() + ms(1), sample);
  };
  sample();
  const { c, s } = await stalledPair(env);
  await idle(env, ms(500));
  assert.ok(started >= 0, "b under memory pressure");
  assert.ok(counter(env.b, "memory_pressure_us") > 0, "the time so far is counted");

  await fastOpenRequest(env, l, "GET /refused HTTP/1.0\r\n\r\n");
  assert.equal(counter(env.b, "tfo_syn_data_mem_refused"), 1);
  assert.equal(counter(env.b, "tfo_syn_data_accepted"), 0);
  assert.equal(counter(env.a, "tfo_fallback"), 1, "a sent the data again after the handshake");

  // The hog's reader goes away: b's account falls back to low, pressure ends.
  c.close();
  s.close();
  await idle(env, ms(500));
  assert.ok(ended > started, "pressure ended");
  const lasted = ended - started;
  const counted = counter(env.b, "memory_pressure_us");
  assert.ok(Math.abs(counted - lasted) <= ms(1), `counted ${counted} µs, sampled ${lasted} µs`);

  await fastOpenRequest(env, l, "GET /taken HTTP/1.0\r\n\r\n");
  assert.equal(counter(env.b, "tfo_syn_data_accepted"), 1, "taken again without pressure");
  assert.equal(counter(env.b, "tfo_syn_data_mem_refused"), 1);
  assert.equal(counter(env.b, "memory_pressure_us"), counted, "no time counted outside pressure");
  l.close();
  env.runFor(ms(70_000));
  env.finish();
});
