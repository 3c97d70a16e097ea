import assert from "node:assert/strict";
import type { PluginContext } from "../manifest.ts";
import type { ProbeResult } from "../services.ts";
import { MAX_PENDING_PROBES, pingOutcome, ProbeTable, unsentProbe } from "./probe_table.ts";

/** Just what a ProbeTable uses of a plugin context: the clock and one-shot timers. */
function fakeContext() {
  let now = 0;
  const timers = new Set<{ at: number; fire: () => void }>();
  const ctx = {
    now: () => now,
    timer(fire: () => void) {
      const t = { at: Infinity, fire };
      return {
        arm(at: number) {
          t.at = at;
          timers.add(t);
        },
        cancel() {
          timers.delete(t);
        },
      };
    },
  } as unknown as PluginContext;
  function advance(to: number): void {
    now = to;
    for (const t of [...timers]) {
      if (t.at <= now) {
        timers.delete(t);
        t.fire();
      }
    }
  }
  return { ctx, advance, armed: () => timers.size };
}

Deno.test("ProbeTable: an answer from the probe's destination settles it once; from elsewhere it is not found", () => {
  const f = fakeContext();
  const table = new ProbeTable(f.ctx);
  const got: ProbeResult[] = [];
  assert.ok(table.start(7, 0x0a000002, 1000, (r) => got.push(r)));
  assert.equal(table.find(7, 0x0a000003), undefined);
  const p = table.find(7, 0x0a000002)!;
  const { reason: _, ...reply } = unsentProbe("");
  table.settle(7, p, { ...reply, kind: "reply" });
  assert.deepEqual(got.map((r) => r.kind), ["reply"]);
  assert.equal(table.find(7, 0x0a000002), undefined);
  assert.equal(f.armed(), 0, "its timer is cancelled");
});

Deno.test("ProbeTable: an unanswered probe times out; one with the same key replaces it silently; cancel tells nobody", () => {
  const f = fakeContext();
  const table = new ProbeTable(f.ctx);
  const got: string[] = [];
  table.start(1, "fd00::2", 1000, (r) => got.push(`first ${r.kind}`));
  table.start(1, "fd00::2", 2000, (r) => got.push(`second ${r.kind}`));
  table.start(2, "fd00::2", 1000, (r) => got.push(`cancelled ${r.kind}`));
  table.cancel(2);
  f.advance(1999);
  assert.deepEqual(got, []);
  f.advance(2000);
  assert.deepEqual(got, ["second timeout"]);
  assert.equal(f.armed(), 0);
});

Deno.test("ProbeTable: past MAX_PENDING_PROBES a new probe is refused; clear cancels every timer", () => {
  const f = fakeContext();
  const table = new ProbeTable(f.ctx);
  for (let key = 0; key < MAX_PENDING_PROBES; key++) assert.ok(table.start(key, 1, 1000, () => {}));
  assert.equal(table.start(MAX_PENDING_PROBES, 1, 1000, () => {}), false);
  assert.ok(table.start(0, 1, 1000, () => {}), "a key already waiting is replaced, not refused");
  table.clear();
  assert.equal(f.armed(), 0);
  assert.ok(table.start(MAX_PENDING_PROBES, 1, 1000, () => {}));
});

Deno.test("pingOutcome words each kind of result as ping prints it", () => {
  const wording = {
    sequence: 3,
    target: "fd00::2",
    timeout: 1_500_000,
    describeError: (type: number, code: number) => `type ${type} code ${code}`,
  };
  const base = unsentProbe("no_route");
  assert.deepEqual(
    pingOutcome({ ...base, kind: "reply", from: "fd00::2", rtt: 5, ttl: 64, bytes: 56 }, wording),
    { sequence: 3, rtt: 5, from: "fd00::2", ttl: 64, bytes: 56 },
  );
  assert.equal(
    pingOutcome({ ...base, kind: "error", from: "fd00::1", type: 1, code: 4 }, wording),
    "type 1 code 4 from fd00::1",
  );
  assert.equal(
    pingOutcome({ ...base, kind: "timeout" }, wording),
    "no reply from fd00::2 within 1500 ms",
  );
  assert.equal(pingOutcome(base, wording), "cannot send to fd00::2: no route");
});
