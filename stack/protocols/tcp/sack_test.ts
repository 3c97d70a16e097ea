import assert from "node:assert/strict";
import fc from "npm:fast-check@3.23.2";
import { Scoreboard } from "./sack.ts";

Deno.test("Scoreboard merges overlapping and adjacent blocks and counts bytes once", () => {
  const sb = new Scoreboard(8);
  assert.equal(sb.add(200, 300, 0, 1000), 100);
  assert.equal(sb.add(250, 400, 0, 1000), 100);
  assert.equal(sb.add(400, 450, 0, 1000), 50);
  assert.equal(sb.add(200, 450, 0, 1000), 0);
  assert.equal(sb.count, 1);
  assert.equal(sb.sacked, 250);
  sb.ackTo(300);
  assert.equal(sb.sacked, 150);
  assert.equal(sb.left(0), 300);
});

Deno.test("Scoreboard ignores blocks below SND.UNA or above SND.MAX (D-SACK, bogus)", () => {
  const sb = new Scoreboard(8);
  assert.equal(sb.add(0, 100, 100, 1000), 0);
  assert.equal(sb.add(900, 1200, 100, 1000), 100);
  assert.equal(sb.highest, 1000);
});

Deno.test("Scoreboard.isLost needs 3 ranges or more than 2 MSS SACKed above", () => {
  const sb = new Scoreboard(8);
  sb.add(100, 200, 0, 1000);
  assert.ok(!sb.isLost(0, 100));
  sb.add(300, 400, 0, 1000);
  assert.ok(!sb.isLost(0, 100));
  sb.add(500, 501, 0, 1000);
  assert.ok(sb.isLost(0, 100));
  assert.ok(!sb.isLost(250, 100));
});

Deno.test("Scoreboard works across sequence wrap-around", () => {
  const base = 0xffffff00;
  const sb = new Scoreboard(8);
  sb.add((base + 100) >>> 0, (base + 400) >>> 0, base, (base + 1000) >>> 0);
  assert.equal(sb.sacked, 300);
  assert.ok(sb.isLost(base, 100));
  assert.equal(sb.pipe(base, (base + 1000) >>> 0, base, 100), 600);
  assert.equal(sb.nextHole(base, base, 100), base);
  assert.equal(sb.holeEnd(base, (base + 1000) >>> 0), (base + 100) >>> 0);
});

Deno.test("Scoreboard.pipe matches a byte-by-byte RFC 6675 SetPipe", () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.integer({ min: 0, max: 999 }), fc.integer({ min: 1, max: 200 })), {
        maxLength: 6,
      }),
      fc.integer({ min: 0, max: 1000 }),
      fc.integer({ min: 10, max: 200 }),
      (blocks, highRxt, mss) => {
        const sb = new Scoreboard(64);
        const sacked = new Uint8Array(1000);
        for (const [l, n] of blocks) {
          sb.add(l, Math.min(1000, l + n), 0, 1000);
          sacked.fill(1, l, Math.min(1000, l + n));
        }
        const lost = (s: number) => {
          let ranges = 0, bytes = 0, inRange = false;
          for (let i = s + 1; i < 1000; i++) {
            if (sacked[i]) {
              bytes++;
              if (!inRange) ranges++;
              inRange = true;
            } else inRange = false;
          }
          return ranges >= 3 || bytes > 2 * mss;
        };
        let pipe = 0;
        for (let s = 0; s < 1000; s++) {
          if (sacked[s]) continue;
          if (!lost(s)) pipe++;
          if (s < highRxt) pipe += lost(s) ? 1 : 0;
        }
        assert.equal(sb.pipe(0, 1000, highRxt, mss), pipe);
      },
    ),
    { numRuns: 300, seed: 11 },
  );
});
