/**
 * Pacing, read from capture timestamps at the sender's interface: on a
 * 100 Mbit/s, 10 ms link (no loss, a deep queue), BBR releases its data
 * segments one at a time at its pacing rate (its timer wakes the
 * connection for each), so consecutive segments are spaced by about
 * `MSS / pacing_rate`; CUBIC unpaced sends what each ACK allows at once
 * (segments back to back, the same microsecond), and CUBIC with the
 * `pacing` option (Linux's fq) spaces them. Every capture is clean in
 * tshark.
 */
import assert from "node:assert/strict";
import { makeLink, ms } from "../_harness.ts";
import { assertTsharkClean } from "../_tshark.ts";

const RATE = 100_000_000;
/** A sender that fills the receiver's 1 MiB window is what the deep queue invites (no error). */
const WINDOW_FULL = {
  allowWarnings: [/^TCP window specified by the receiver is now completely full/],
};
const MSS = 1448;

interface Spacing {
  /** Gaps (µs) between consecutive data segments from the sender, second half of the transfer. */
  readonly gaps: number[];
  /** The pacing rate at the end, bytes/s (0: none). */
  readonly pacingRate: number;
  readonly capture: Uint8Array;
}

async function spacing(cc: string, pacing: boolean): Promise<Spacing> {
  const lane = { bandwidth: RATE, delay: ms(10), queueLimit: { bytes: 4 << 20 } };
  const env = makeLink({
    seed: 5,
    capture: true,
    directions: { "a->b": lane, "b->a": lane },
    plugins: { tcp: { pacing, sendBuffer: 1 << 20, receiveBuffer: 1 << 20 } },
  });
  await env.run(() => env.a.ping("10.0.0.2"));
  const l = env.b.listen({ port: 80 });
  let pacingRate = 0;
  await env.run(async () => {
    const [c, s] = await Promise.all([
      env.a.connect({ hostname: "10.0.0.2", port: 80, congestionControl: cc }),
      l.accept(),
    ]);
    const w = (async () => {
      const chunk = new Uint8Array(65536);
      for (let i = 0; i < 96; i++) { // 6 MiB
        let off = 0;
        while (off < chunk.length) off += await c.write(chunk.subarray(off));
      }
      pacingRate = c.info().pacingRate ?? 0;
      await c.closeWrite();
    })();
    const buf = new Uint8Array(65536);
    while ((await s.read(buf)) !== null);
    await w;
    c.close();
    s.close();
  }, { timeout: 600_000_000 });
  l.close();
  // Data segments a → b: Ethernet + IPv4 (20) + TCP header, source 10.0.0.1, a payload.
  const sent = env.capture!.records().filter((r) => {
    const d = r.data;
    if (d.length < 54 || d[12] !== 0x08 || d[13] !== 0x00 || d[23] !== 6) return false;
    if (d[26] !== 10 || d[29] !== 1) return false;
    const ipLen = (d[16]! << 8) | d[17]!;
    const tcpHl = (d[46]! >> 4) * 4;
    return ipLen - 20 - tcpHl > 0;
  });
  const half = sent.slice(sent.length >> 1);
  const gaps: number[] = [];
  for (let i = 1; i < half.length; i++) gaps.push(half[i]!.timestamp - half[i - 1]!.timestamp);
  const capture = env.capture!.bytes();
  env.finish();
  return { gaps, pacingRate, capture };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

Deno.test("tcp BBR bulk send → data segments leave spaced at MSS / pacing rate, never back to back", async () => {
  const bbr = await spacing("bbr", false);
  assert.ok(bbr.gaps.length > 1000, `${bbr.gaps.length} gaps`);
  assert.ok(bbr.pacingRate > 0);
  const expected = MSS * 1e6 / bbr.pacingRate; // µs per segment at the pacing rate
  const m = median(bbr.gaps);
  assert.ok(
    m >= 0.6 * expected && m <= 1.6 * expected,
    `median gap ${m} µs, MSS / pacing rate ${expected.toFixed(1)} µs`,
  );
  const together = bbr.gaps.filter((g) => g === 0).length;
  assert.ok(together <= bbr.gaps.length / 100, `${together} of ${bbr.gaps.length} back to back`);
  // The link's own serialization time per frame is ~121 µs: BBR paces near the link's rate.
  assert.ok(m >= 100 && m <= 200, `median gap ${m} µs`);
  await assertTsharkClean(bbr.capture, WINDOW_FULL);
});

Deno.test("tcp CUBIC bulk send → bursts unpaced; with the pacing option, spaced like Linux's fq", async () => {
  const bursty = await spacing("cubic", false);
  const paced = await spacing("cubic", true);
  const zero = (g: number[]) => g.filter((x) => x === 0).length / g.length;
  assert.equal(bursty.pacingRate, 0, "not paced by default");
  assert.ok(zero(bursty.gaps) > 0.3, `unpaced: ${zero(bursty.gaps).toFixed(2)} back to back`);
  assert.ok(paced.pacingRate > 0);
  assert.ok(zero(paced.gaps) < 0.05, `paced: ${zero(paced.gaps).toFixed(2)} back to back`);
  await assertTsharkClean(paced.capture, WINDOW_FULL);
});
