/**
 * TCP publishes a `connection-state` event on every transition, in order,
 * however short the state: both ends of a connection opened and closed
 * within a few virtual milliseconds.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { ConnectionStateEvent } from "../../mod.ts";
import { makeLink, ms, testPlugin } from "../_harness.ts";

/** A plugin recording every connection-state event as `local remote: from -> to`. */
function recorder(out: string[]) {
  return testPlugin({ name: "recorder" }, () => ({
    onEvent(ev) {
      if (ev.type !== "connection-state") return;
      const e = ev as ConnectionStateEvent;
      assert.equal(e.plugin, "tcp");
      out.push(`${e.local} ${e.remote}: ${e.from} -> ${e.to}`);
    },
  }));
}

Deno.test("tcp publishes every connection state transition in order, active and passive side", async () => {
  const events: string[] = [];
  const env = makeLink({
    seed: 5,
    plugins: { tcp: { mslMs: 1 } }, // TIME-WAIT lasts 2 ms
    extraPlugins: [recorder(events)],
  });
  const t0 = env.net.now();
  const l = env.b.listen({ port: 7000 });
  const [c, s] = await env.run(() =>
    Promise.all([env.a.connect({ hostname: "10.0.0.2", port: 7000 }), l.accept()])
  );
  const port = c.localAddr.port;
  await c.closeWrite(); // a: FIN-WAIT-1
  env.runFor(ms(1)); // b acknowledges the FIN: a FIN-WAIT-2, b CLOSE-WAIT
  assert.equal(await env.run(() => s.read(new Uint8Array(8))), null);
  s.close(); // b: LAST-ACK; a: TIME-WAIT; b: CLOSED
  env.runFor(ms(5)); // a's TIME-WAIT ends
  l.close();
  c.close();
  assert.ok(env.net.now() - t0 < ms(200), "all within a few virtual milliseconds");
  const a = `10.0.0.1:${port} 10.0.0.2:7000`;
  const b = `10.0.0.2:7000 10.0.0.1:${port}`;
  const only = (prefix: string) => events.filter((e) => e.startsWith(prefix));
  assert.deepEqual(only(a), [
    `${a}: CLOSED -> SYN-SENT`,
    `${a}: SYN-SENT -> ESTABLISHED`,
    `${a}: ESTABLISHED -> FIN-WAIT-1`,
    `${a}: FIN-WAIT-1 -> FIN-WAIT-2`,
    `${a}: FIN-WAIT-2 -> TIME-WAIT`,
    `${a}: TIME-WAIT -> CLOSED`,
  ]);
  assert.deepEqual(only(b), [
    `${b}: CLOSED -> SYN-RECEIVED`,
    `${b}: SYN-RECEIVED -> ESTABLISHED`,
    `${b}: ESTABLISHED -> CLOSE-WAIT`,
    `${b}: CLOSE-WAIT -> LAST-ACK`,
    `${b}: LAST-ACK -> CLOSED`,
  ]);
  assert.equal(events.length, 11, events.join("\n"));
  env.finish();
});
