/**
 * Closing a stack fails the pings and traceroutes under way. Before, they
 * never settled: close() stops the stack's timers, so neither the answer
 * nor the time-out could come, and an `await stack.ping(…)` hung the
 * program (net.run: DeadlockError), the same trap userpath's 7fb64eb closed
 * for calls made after close (review17). In-flight calls get
 * `Deno.errors.Interrupted`, as a connect or fetch under way does.
 */
import assert from "node:assert/strict";
import { SECOND } from "../../mod.ts";
import { makeLink } from "../_harness.ts";

Deno.test("close() fails pings and traceroutes under way with Interrupted", async () => {
  const env = makeLink(); // a 10.0.0.1, b 10.0.0.2
  const { net, a } = env;
  const interrupted = (what: string) => (e: unknown) =>
    e instanceof Deno.errors.Interrupted && e.message === `Cannot ${what}: the stack is closed`;
  await net.run(async () => {
    // Nobody answers 10.0.0.9's ARP: each waits for its time-out.
    const ping = a.ping("10.0.0.9", { timeout: 100_000 });
    const trace = a.traceroute("10.0.0.9", { timeout: 10_000 });
    const answered = a.ping("10.0.0.2"); // settles before the close
    await new Promise<void>((resolve) => net.at(net.clock.now() + SECOND / 10, resolve));
    assert.equal((await answered).from, "10.0.0.2");
    a.close();
    await assert.rejects(ping, interrupted("ping 10.0.0.9"));
    await assert.rejects(trace, interrupted("traceroute 10.0.0.9"));
  }, { timeout: 200 * SECOND });
  assert.equal(a.pendingTimers, 0);
  assert.equal(a.pool.outstanding, 0);
  env.close();
});
