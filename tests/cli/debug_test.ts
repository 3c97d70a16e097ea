/**
 * The `up --log-level debug` plugin: logs each state change as it is
 * published, so a state lasting far less than the old 200 ms polling
 * interval is still in the output; the rate limiter still applies.
 *
 * @module
 */
import assert from "node:assert/strict";
import { debugPlugin } from "../../cli/_debug.ts";
import { makeLink, ms } from "../_harness.ts";

interface Line {
  time: number;
  source: string;
  message: string;
}

async function openAndClose(limit?: number): Promise<Line[]> {
  const lines: Line[] = [];
  const env = makeLink({
    seed: 9,
    plugins: { tcp: { mslMs: 1 } },
    extraPlugins: [
      debugPlugin(
        (time, source, message) => lines.push({ time, source, message }),
        limit === undefined ? {} : { limit },
      ),
    ],
  });
  const l = env.b.listen({ port: 7 });
  const [c, s] = await env.run(() =>
    Promise.all([env.a.connect({ hostname: "10.0.0.2", port: 7 }), l.accept()])
  );
  await c.closeWrite();
  env.runFor(ms(1));
  s.close();
  env.runFor(ms(5));
  c.close();
  l.close();
  env.finish();
  return lines;
}

Deno.test("debug plugin logs a TCP state that lasts far less than 200 ms, and ARP changes", async () => {
  const lines = await openAndClose();
  const find = (re: RegExp) => lines.find((l) => re.test(l.message));
  const enter = find(/^connection 10\.0\.0\.1:\d+ 10\.0\.0\.2:7: ESTABLISHED -> FIN-WAIT-1$/);
  const leave = find(/^connection 10\.0\.0\.1:\d+ 10\.0\.0\.2:7: FIN-WAIT-1 -> FIN-WAIT-2$/);
  assert.ok(enter && leave, lines.map((l) => l.message).join("\n"));
  assert.equal(enter.source, "tcp");
  assert.ok(leave.time - enter.time < ms(200), `FIN-WAIT-1 lasted ${leave.time - enter.time} µs`);
  assert.ok(find(/^connection \S+ \S+: TIME-WAIT -> CLOSED$/), "TIME-WAIT (2 ms) ended");
  const arp = find(/^neighbour eth0 10\.0\.0\.2: INCOMPLETE -> REACHABLE 02:00:00:00:00:02$/);
  assert.equal(arp?.source, "arp");
});

Deno.test("debug plugin lines go through the rate limiter", async () => {
  const lines = await openAndClose(3);
  // Everything happens within one second of stack time: each host (its own
  // plugin instance, its own limiter) lets 3 lines through.
  assert.equal(lines.length, 6, lines.map((l) => l.message).join("\n"));
});
