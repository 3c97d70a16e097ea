/**
 * Review of RACK records recycled from TIME-WAIT endpoints (`rack.ts`
 * `Rack.retire`, session 12): a recycled record must behave as a new one.
 * The same lossy, reordering exchange of short connections (RACK judging
 * losses, probing tails, widening its reordering window) gives a
 * byte-identical capture whether its records are new or recycled from
 * connections that lost, reordered and probed (a field `retire` forgot
 * would change a judgement, a timer or a probe). And every field a record
 * is made with, public or private, is set back to the same value by
 * `retire` (a field added later without its reset fails here).
 */
import assert from "node:assert/strict";
import { makeLink, ms } from "../_harness.ts";
import type { TcpConn } from "../../stack/sockets/types.ts";
import { Rack, RACK_SEGMENTS } from "../../stack/protocols/tcp/rack.ts";

function pattern(seed: number, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 13 + seed) & 0xff;
  return b;
}

async function writeAll(conn: TcpConn, p: Uint8Array): Promise<void> {
  for (let off = 0; off < p.length;) off += await conn.write(p.subarray(off));
}

async function drain(conn: TcpConn): Promise<number> {
  let n = 0;
  for (let k = await conn.discard(); k !== null; k = await conn.discard()) n += k;
  return n;
}

/**
 * `conns` connections a→b one after another over a lossy, reordering link,
 * `bytes` each way; a closes first (its records go to TIME-WAIT and are
 * retired). Returns a's capture, or null without one.
 */
async function exchange(seed: number, conns: number, bytes: number, capture: boolean) {
  const env = makeLink({
    seed,
    faults: { delay: ms(5), loss: 0.03, reorder: 0.05, reorderDelay: ms(3) },
    withoutPlugins: ["ndp", "mld", "slaac"],
    capture,
  });
  const l = env.b.listen({ port: 7 });
  const retired = countRetires();
  try {
    await env.run(async () => {
      for (let i = 0; i < conns; i++) {
        const [c, s] = await Promise.all([
          env.a.connect({ hostname: "10.0.0.2", port: 7 }),
          l.accept(),
        ]);
        const [, , atS, atC] = await Promise.all([
          writeAll(c, pattern(i, bytes)).then(() => c.closeWrite()),
          writeAll(s, pattern(i + 1, bytes)).then(() => s.closeWrite()),
          drain(s),
          drain(c),
        ]);
        assert.equal(atS, bytes);
        assert.equal(atC, bytes);
        c.close();
        s.close();
      }
    }, { timeout: 3_600_000_000 });
    env.runFor(ms(70_000)); // through TIME-WAIT
  } finally {
    retired.stop();
  }
  l.close();
  const bytesOut = env.capture?.bytes() ?? null;
  env.finish();
  return { capture: bytesOut, retired: retired.count() };
}

/** Counts `Rack.retire` calls until `stop()`. */
function countRetires(): { count(): number; stop(): void } {
  const proto = Rack.prototype;
  const retire = proto.retire;
  let n = 0;
  proto.retire = function (this: Rack): void {
    n++;
    retire.call(this);
  };
  return {
    count: () => n,
    stop() {
      proto.retire = retire;
    },
  };
}

Deno.test("tcp RACK records recycled from lossy connections give the same capture as new ones", async () => {
  // New records (whatever an earlier test left is taken first by the
  // warm-up below, not by this run: it runs first in this file).
  const cold = await exchange(21, 12, 60_000, true);
  // Warm-up: other connections, other losses; their records are retired
  // and kept (up to 64) for the next run.
  const warm = await exchange(22, 80, 60_000, false);
  assert.ok(warm.retired >= 64, `${warm.retired} records retired in the warm-up`);
  const again = await exchange(21, 12, 60_000, true);
  assert.ok(cold.retired > 0, "the measured run retired records too");
  assert.equal(again.capture!.length, cold.capture!.length, "capture lengths");
  assert.ok(
    again.capture!.every((b, i) => b === cold.capture![i]),
    "byte-identical captures with recycled records",
  );
});

/** `name = value;` field initializers of the class `cls` in `src`, by name. */
function initializers(src: string, cls: string): Map<string, string> {
  const body = src.slice(src.indexOf(`export class ${cls} {`), src.indexOf("  constructor("));
  const out = new Map<string, string>();
  for (const m of body.matchAll(/^ {2}(?:readonly )?(#?\w+)(?:: [^=\n]+)? = ([^;\n]+);/gm)) {
    out.set(m[1]!, m[2]!.trim());
  }
  return out;
}

Deno.test("tcp Rack.retire sets every field a new record is made with back to its initial value", async () => {
  const src = await Deno.readTextFile(
    new URL("../../stack/protocols/tcp/rack.ts", import.meta.url),
  );
  const fields = initializers(src, "Rack");
  assert.ok(fields.size >= 25, `${fields.size} field initializers found`);
  const body = (head: string) => {
    const start = src.indexOf(head);
    assert.ok(start > 0, head);
    return src.slice(start, src.indexOf("\n  }\n", start)).replace(/\/\/.*$/gm, "");
  };
  // retire() and the constructor both reset through #reset() (the
  // constructor so that V8 takes none of the fields for a constant).
  const retire = body("  retire(): void {");
  assert.match(retire, /this\.#reset\(\)/);
  assert.match(body("  constructor(limit: number) {"), /this\.#reset\(\)/);
  const resets = new Map<string, string>();
  for (const m of body("  #reset(): void {").matchAll(/this\.(#?\w+) = ([^;\n]+);/g)) {
    resets.set(m[1]!, m[2]!.trim());
  }
  // The ring is emptied by its own recycle(), not replaced.
  assert.match(retire, /this\.#r\.recycle\(\)/);
  fields.delete("#r");
  assert.deepEqual(
    [...resets.entries()].sort(),
    [...fields.entries()].sort(),
    "#reset() sets exactly the initialized fields, to the same values",
  );
  // And the public state of a used, retired record equals a new one's.
  const used = new Rack(RACK_SEGMENTS);
  for (let i = 0; i < 4; i++) used.sent(i * 100, i * 100 + 100, 1000 + i);
  used.sack(100, 400, 5000);
  used.detectLoss(6000, 0);
  used.retire();
  const fresh = new Rack(RACK_SEGMENTS);
  assert.deepEqual(Object.entries(used), Object.entries(fresh));
  assert.ok(Object.is(used.ptoAt, fresh.ptoAt), "ptoAt -0 as new");
  assert.equal(used.count, 0);
});
