/**
 * The demo's multicast exchange (cli/_demo_multicast.ts): the members'
 * IGMPv3 reports and h1's datagrams to the group are in the capture, in
 * that order, each member got each datagram, and the capture is
 * tshark-clean (the byte-identity per seed is tests/cli/demo_test.ts's and
 * tests/determinism's).
 */
import assert from "node:assert/strict";
import { runDemo } from "../../cli/demo.ts";
import { DEMO_GROUP } from "../../cli/_demo_multicast.ts";
import { parseCapture } from "../../drivers/pcapfile/mod.ts";
import { assertTsharkClean } from "../_tshark.ts";

const quiet = () => {};
const ETH = 14;
const dotted = (b: Uint8Array, at: number) => [...b.subarray(at, at + 4)].join(".");

/** The IPv4 multicast frames of a capture: IGMPv3 reports and UDP to the group, as lines. */
function multicastLines(capture: Uint8Array): string[] {
  const lines: string[] = [];
  for (const { data: f } of parseCapture(capture).records) {
    if (f[12] !== 0x08 || f[13] !== 0) continue;
    const ihl = (f[ETH]! & 0x0f) * 4;
    const src = dotted(f, ETH + 12), dst = dotted(f, ETH + 16), ttl = f[ETH + 8]!;
    const l4 = ETH + ihl;
    if (f[ETH + 9] === 2 && f[l4] === 0x22) {
      // One record per report here: [record type, group].
      assert.equal(f[l4 + 7], 1);
      lines.push(`${src} igmpv3 ${f[l4 + 8]} ${dotted(f, l4 + 12)} ttl ${ttl}`);
    } else if (f[ETH + 9] === 17 && dst === DEMO_GROUP) {
      const mac = [...f.subarray(0, 6)].map((x) => x.toString(16).padStart(2, "0")).join(":");
      const len = ((f[l4 + 4]! << 8) | f[l4 + 5]!) - 8;
      const text = new TextDecoder().decode(f.subarray(l4 + 8, l4 + 8 + len));
      lines.push(`${src} -> ${dst} (${mac}) "${text}" ttl ${ttl}`);
    }
  }
  return lines;
}

Deno.test("demo multicast: h2 and h3 join with IGMPv3 reports, each gets h1's three datagrams, then they leave; tshark-clean", async () => {
  const r = await runDemo(["--no-capture"], quiet);
  assert.equal(r.code, 0);
  assert.deepEqual(r.multicast, { members: 2, received: 6, expected: 6, reports: 6 });
  const lines = multicastLines(r.capture);
  // RFC 3376 §5.1: TO_EX {} (4) at the join, TO_IN {} (3) at the leave, robustness (2) times
  // unless merged with a pending retransmission; TTL 1 (§4); datagrams to 01:00:5e:01:02:03
  // (RFC 1112 §6.4) with TTL 1, the default for multicast.
  assert.deepEqual(lines, [
    "10.0.0.2 igmpv3 4 239.1.2.3 ttl 1",
    "10.0.0.3 igmpv3 4 239.1.2.3 ttl 1",
    '10.0.0.1 -> 239.1.2.3 (01:00:5e:01:02:03) "one" ttl 1',
    '10.0.0.1 -> 239.1.2.3 (01:00:5e:01:02:03) "to" ttl 1',
    '10.0.0.1 -> 239.1.2.3 (01:00:5e:01:02:03) "many" ttl 1',
    "10.0.0.2 igmpv3 3 239.1.2.3 ttl 1",
    "10.0.0.3 igmpv3 3 239.1.2.3 ttl 1",
    "10.0.0.3 igmpv3 3 239.1.2.3 ttl 1",
    "10.0.0.2 igmpv3 3 239.1.2.3 ttl 1",
  ]);
  await assertTsharkClean(r.capture, {
    allowWarnings: [
      /out-of-order segment/,
      /Previous segment\(s\) not captured/,
      /ACKed segment that wasn't captured/,
    ],
  });
});

Deno.test("demo multicast: with two hosts the one member gets every datagram, whatever the seed", async () => {
  for (const seed of [2, 3]) {
    const r = await runDemo(["--no-capture", "--hosts", "2", "--seed", String(seed)], quiet);
    assert.equal(r.code, 0, `seed ${seed}`);
    assert.equal(r.multicast?.members, 1);
    assert.equal(r.multicast?.received, 3);
    const lines = multicastLines(r.capture);
    assert.equal(lines.filter((l) => l.includes('"')).length, 3, `seed ${seed}`);
    assert.ok(lines[0]!.startsWith("10.0.0.2 igmpv3 4 "), `seed ${seed}: the join first`);
  }
});
