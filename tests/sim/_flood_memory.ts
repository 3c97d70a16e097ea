/**
 * Measures the heap a flooded frame costs while in flight (issue 19): every
 * one of P ports on one switch sends a broadcast at once, so P·(P−1)
 * deliveries wait on 1 ms cables; prints `{ ports, deliveries, pending,
 * bytesPerDelivery }` as JSON. Run with `--v8-flags=--expose-gc`:
 * `deno run --v8-flags=--expose-gc tests/sim/_flood_memory.ts 400`.
 *
 * @module
 */
import { type LinkEnd, MILLISECOND, VirtualNetwork } from "../../mod.ts";
import type { PacketBuffer } from "../../mod.ts";
import { usedAfterGc } from "../_gc_probe.ts";

/** Heap bytes per flooded delivery in flight with `ports` ports all broadcasting at once. */
export function floodBytesPerDelivery(ports: number): {
  deliveries: number;
  pending: number;
  bytesPerDelivery: number;
  received: number;
} {
  const net = new VirtualNetwork({ seed: 1 });
  const sw = net.switch();
  let received = 0;
  const ends: LinkEnd[] = [];
  for (let i = 0; i < ports; i++) {
    const end = sw.port({ faults: { delay: MILLISECOND } });
    end.attach({
      pool: net.pool,
      ifindex: i,
      now: () => net.now(),
      receive(pkt: PacketBuffer) {
        received++;
        pkt.release();
      },
    });
    ends.push(end);
  }
  const frame = (i: number): PacketBuffer => {
    const p = net.pool.alloc(60);
    p.data.fill(0);
    p.data.fill(0xff, 0, 6);
    p.data.set(ends[i]!.mac!, 6);
    return p;
  };
  // Warm up code and pools with one round, so only the floods are measured.
  for (let i = 0; i < ports; i++) ends[i]!.transmit(frame(i));
  net.runFor(10 * MILLISECOND);
  const before = usedAfterGc();
  for (let i = 0; i < ports; i++) ends[i]!.transmit(frame(i));
  // The frames reach the switch at 1 ms and are flooded; copies arrive at 2 ms.
  net.runFor(1_500);
  const during = usedAfterGc();
  const pending = net.pending;
  net.runFor(10 * MILLISECOND);
  const deliveries = ports * (ports - 1);
  return {
    deliveries,
    pending,
    bytesPerDelivery: Math.round((during.heap - before.heap) / deliveries),
    received: received / 2,
  };
}

if (import.meta.main) {
  const ports = Number(Deno.args[0] ?? "400");
  // deno-lint-ignore no-console
  console.log(JSON.stringify({ ports, ...floodBytesPerDelivery(ports) }));
}
