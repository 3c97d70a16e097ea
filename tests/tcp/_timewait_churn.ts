/**
 * The TIME-WAIT memory probes' shared set-up: two stacks, and `churn(n)`,
 * which opens, accepts and closes n connections with both ends closing at
 * once (so both hold TIME-WAIT).
 *
 * @module
 */
import { tcpPair } from "../../bench/_tcp_pair.ts";

/** Reads the probe's connection count argument (default 2000). */
export function countArg(): number {
  const n = Number(Deno.args[0] ?? 2000);
  if (!Number.isInteger(n) || n < 1) {
    throw new RangeError(`Cannot measure: bad count ${Deno.args[0]}`);
  }
  return n;
}

/** Two stacks with a listener, `churn(n)` and `inTimeWait()` (sockets less the listener). */
export function timeWaitPair(): {
  p: ReturnType<typeof tcpPair>;
  churn: (count: number) => Promise<void>;
  inTimeWait: () => number;
} {
  const p = tcpPair({ buffer: 1 << 16 });
  const churn = (count: number) =>
    p.net.run(async () => {
      for (let i = 0; i < count; i++) {
        const [c, s] = await Promise.all([
          p.a.connect({ hostname: "10.0.0.2", port: 5001 }),
          p.listener.accept(),
        ]);
        c.close();
        s.close();
      }
    }, { timeout: 3_600_000_000 });
  const inTimeWait = () => p.a.sockets().length + p.b.sockets().length - 1; // less b's listener
  return { p, churn, inTimeWait };
}
