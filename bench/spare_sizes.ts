/**
 * Measures the real bytes of one entry of each process- or network-wide
 * spare pool whose limit is counted in bytes, and checks the constant each
 * limit is computed from: RACK's spare records and ring stores
 * (`stack/protocols/tcp/rack.ts`, `rack_ring.ts`) and the virtual network's
 * free event-queue entries (`drivers/loopback/_wire.ts`). For each, 20,000
 * are made and kept; `Deno.memoryUsage()` after two `gc()` calls, before and
 * after, gives the heap and external bytes per entry. Run by hand (it needs
 * `gc`):
 *
 * ```sh
 * deno run -A --v8-flags=--expose-gc bench/spare_sizes.ts
 * ```
 *
 * Exits with status 1 if a constant is below what it measures (by more than
 * 1 B: a 96-byte object measures 96.0-96.4, the heap's other allocations).
 *
 * @module
 */
import { Rack, RACK_SEGMENTS, RACK_SPARE_BYTES } from "../stack/protocols/tcp/rack.ts";
import { RackRing, RING_SPARE_SET_BYTES } from "../stack/protocols/tcp/rack_ring.ts";
import { FREE_ENTRY_BYTES } from "../drivers/loopback/_wire.ts";

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("run with --v8-flags=--expose-gc");
const N = 20_000;

/** Heap plus external bytes per object `make` returns, N made and kept. */
function bytesEach(make: () => unknown): number {
  const keep: unknown[] = new Array(N).fill(null);
  gc!();
  gc!();
  const before = Deno.memoryUsage();
  for (let i = 0; i < N; i++) keep[i] = make();
  gc!();
  gc!();
  const after = Deno.memoryUsage();
  if (keep.length !== N) throw new Error("unreachable: keeps the objects alive");
  return (after.heapUsed - before.heapUsed + after.external - before.external) / N;
}

// A retired record is a new one's state: its ring empty, stores given away.
const rack = bytesEach(() => new Rack(RACK_SEGMENTS));
// A spare set: a ring with its first (16-slot) store, less the ring itself.
const ringWithSet = bytesEach(() => {
  const r = new RackRing();
  r.push(0, 1, 0, 0);
  return r;
});
const ringSet = ringWithSet - bytesEach(() => new RackRing());
// A frame entry, fields in the order _wire.ts makes them.
const entry = bytesEach(() => ({
  at: 1,
  key: 2,
  seq: 3,
  depth: 0,
  pkt: null,
  sink: null,
  tag: 0,
  fn: null,
  pooled: true,
}));

let ok = true;
for (
  const [name, measured, constant] of [
    ["RACK spare record", rack, RACK_SPARE_BYTES],
    ["RACK ring spare set", ringSet, RING_SPARE_SET_BYTES],
    ["network free entry", entry, FREE_ENTRY_BYTES],
  ] as const
) {
  const fits = measured <= constant + 1;
  ok &&= fits;
  Deno.stdout.writeSync(new TextEncoder().encode(
    `${name}: ${measured.toFixed(1)} B measured, ${constant} B counted${
      fits ? "" : " (TOO LOW)"
    }\n`,
  ));
}
if (!ok) Deno.exit(1);
