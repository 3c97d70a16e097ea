import assert from "node:assert/strict";
import { TCP_MAX_SACK_BLOCKS, TCP_OPT_SACK, TcpOptionSet } from "./tcp_options.ts";

/** A SACK option with `n` blocks {10i+1 : 10i+5}. */
function sackOption(n: number): Uint8Array {
  const b = new Uint8Array(2 + 8 * n);
  const dv = new DataView(b.buffer);
  b[0] = TCP_OPT_SACK;
  b[1] = 2 + 8 * n;
  for (let i = 0; i < n; i++) {
    dv.setUint32(2 + 8 * i, 10 * i + 1);
    dv.setUint32(6 + 8 * i, 10 * i + 5);
  }
  return b;
}

Deno.test("TcpOptionSet.parse() reads 1 to 4 SACK blocks", () => {
  const set = new TcpOptionSet();
  for (let n = 1; n <= 4; n++) {
    assert.ok(set.parse(sackOption(n)));
    assert.equal(set.sackCount, n);
    assert.deepEqual(
      [...set.sackBlocks.subarray(0, 2 * n)],
      [1, 5, 11, 15, 21, 25, 31, 35].slice(0, 2 * n),
    );
  }
});

Deno.test("TcpOptionSet.parse() clamps a SACK option of more than 4 blocks to the first 4", () => {
  // Longer than a TCP header allows (40 option bytes): a caller that does not
  // bound the area must still get at most TCP_MAX_SACK_BLOCKS valid blocks.
  const set = new TcpOptionSet();
  for (const n of [5, 8, 31]) {
    assert.ok(set.parse(sackOption(n)));
    assert.equal(set.sackCount, TCP_MAX_SACK_BLOCKS);
    assert.deepEqual([...set.sackBlocks], [1, 5, 11, 15, 21, 25, 31, 35]);
    assert.ok(!set.malformed);
  }
});
