import assert from "node:assert/strict";
import { makeLan, ms, pingRetry, withEnv } from "../_harness.ts";
import { assertTsharkClean } from "../_tshark.ts";
import { gated } from "../_require.ts";

/**
 * Four hosts on a faulty switch ping each other (with retries); returns the
 * pcap of every frame the hosts sent, in the order they sent them.
 */
async function capture(seed: number): Promise<Uint8Array> {
  const lan = makeLan({
    hosts: 4,
    seed,
    capture: true,
    faults: { loss: 0.1, duplicate: 0.05, reorder: 0.1, delay: ms(2), jitter: ms(1) },
  });
  let bytes = new Uint8Array(0);
  await withEnv(lan, async () => {
    await lan.run(() =>
      Promise.all(lan.hosts.map(async (h, i) => {
        for (const [j, to] of lan.addresses.entries()) {
          if (i !== j) await pingRetry(h, to, { attempts: 3, timeout: 100 });
        }
      }))
    );
    lan.runFor(ms(500));
    bytes = lan.capture!.bytes().slice();
  });
  return bytes;
}

Deno.test("determinism: the same seed gives a byte-identical capture; another seed differs", async () => {
  const first = await capture(31);
  const second = await capture(31);
  assert.ok(first.length > 24 + 40 * 60, `only ${first.length} bytes captured`);
  assert.equal(second.length, first.length);
  assert.deepEqual(second, first);
  const other = await capture(32);
  assert.notDeepEqual(other, first);
});

Deno.test(
  gated(["tshark"], {
    name: "determinism: the faulty-LAN capture opens cleanly in tshark",
    fn: async () => {
      await assertTsharkClean(await capture(31));
    },
  }),
);
