/**
 * The `mld.groups` service (join, leave, isMember, list) with its argument
 * checks and table bound, and MLD on Ethernet: reports framed to
 * 33:33:00:00:00:16 (RFC 2464 §7) and a capture tshark reads cleanly.
 */
import assert from "node:assert/strict";
import { makeHost, ms } from "../_harness.ts";
import { assertTsharkClean } from "../_tshark.ts";
import type { MulticastGroupsService } from "../../stack/services.ts";
import { IpAddress } from "../../stack/wire/ip_address.ts";
import { ipv6Plugin } from "../../stack/protocols/ipv6/mod.ts";
import { icmpv6Plugin } from "../../stack/protocols/icmpv6/mod.ts";
import { mldPlugin } from "../../stack/protocols/mld/mod.ts";
import { mldHost, multicastOnlyNeighbors, query, readMld } from "./_mld.ts";

const groups = (h: ReturnType<typeof mldHost>) =>
  h.stack.service("mld.groups") as MulticastGroupsService;

Deno.test("mld.groups join reports a user group once, counts references, and leave reports when the last one goes", () => {
  const h = mldHost({ addresses: ["fe80::1/64"] });
  h.runFor(ms(2000));
  h.take();
  const mld = groups(h);
  assert.equal(mld.join(h.iface.index, "ff02::fb"), true);
  assert.equal(mld.join(h.iface.index, "ff02::fb"), false, "already listening");
  h.runFor(ms(2000));
  assert.deepEqual(h.take().map((f) => readMld(f).records), [[[4, "ff02::fb"]], [[4, "ff02::fb"]]]);
  assert.ok(mld.isMember(h.iface.index, IpAddress.parse("ff02::fb")!.key));
  assert.equal(mld.list().find((g) => g.group === "ff02::fb")?.users, 2);
  assert.equal(mld.leave(h.iface.index, "ff02::fb"), false, "one join still holds it");
  assert.equal(mld.leave(h.iface.index, "ff02::fb"), true);
  assert.equal(mld.leave(h.iface.index, "ff02::fb"), false, "nothing left to drop");
  assert.equal(
    mld.leave(h.iface.index, "ff02::1"),
    false,
    "the stack's own groups are not the user's to drop",
  );
  h.runFor(ms(2000));
  assert.deepEqual(h.take().map((f) => readMld(f).records), [[[3, "ff02::fb"]], [[3, "ff02::fb"]]]);
  assert.ok(!mld.isMember(h.iface.index, IpAddress.parse("ff02::fb")!.key));
  h.finish();
});

Deno.test("mld.groups node-local groups are joined but never reported (RFC 3810 §6)", () => {
  const h = mldHost({ addresses: ["fe80::1/64"] });
  h.runFor(ms(2000));
  h.take();
  assert.equal(groups(h).join(h.iface.index, "ff01::1:2"), true);
  h.runFor(ms(2000));
  h.inject(query({ maxDelay: 10 }));
  h.runFor(ms(20));
  assert.deepEqual(h.take().map((f) => readMld(f).records), [[[2, "ff02::1:ff00:1"]]]);
  h.finish();
});

Deno.test("mld.groups checks its arguments before changing anything", () => {
  const h = mldHost();
  const mld = groups(h);
  const before = mld.list();
  assert.throws(() => mld.join(1.5, "ff02::fb"), TypeError);
  assert.throws(() => mld.join("0" as unknown as number, "ff02::fb"), TypeError);
  assert.throws(() => mld.join(99, "ff02::fb"), RangeError);
  assert.throws(() => mld.join(h.iface.index, 5 as unknown as string), TypeError);
  assert.throws(() => mld.join(h.iface.index, "239.1.1.1"), TypeError);
  assert.throws(() => mld.join(h.iface.index, "fd00::1"), RangeError);
  assert.throws(() => mld.join(h.iface.index, "ff00::1"), RangeError, "reserved scope 0");
  assert.throws(() => mld.leave(h.iface.index, "nonsense"), TypeError);
  assert.deepEqual(mld.list(), before);
  h.finish();
});

Deno.test("mld.groups the table of an interface is bounded (maxGroups), and the drop is counted", () => {
  const h = mldHost({ addresses: [], plugins: { mld: { maxGroups: 4 } } });
  const mld = groups(h);
  for (let i = 1; i <= 3; i++) mld.join(h.iface.index, `ff05::${i}`);
  assert.throws(() => mld.join(h.iface.index, "ff05::4"), RangeError, "ff02::1 + 3 = 4");
  assert.equal(h.counter("mld.groups.full"), 1);
  assert.equal(mld.list().length, 4);
  h.finish();
});

Deno.test("mld options out of range fail the boot", () => {
  assert.throws(() => mldHost({ plugins: { mld: { robustness: 0 } } }), RangeError);
  assert.throws(() => mldHost({ plugins: { mld: { unsolicitedReportInterval: 0.5 } } }), TypeError);
});

Deno.test("mld on Ethernet: reports go to 33:33:00:00:00:16 and the capture is tshark-clean", async () => {
  const h = makeHost({
    addresses: ["fe80::1/64", "2001:db8::1/64"],
    extraPlugins: [ipv6Plugin, icmpv6Plugin, mldPlugin, multicastOnlyNeighbors],
    // No slaac: its own link-local address would add a group and its DAD probe.
    withoutPlugins: ["slaac"],
    capture: true,
  });
  const q = query({ maxDelay: 100 });
  const frame = new Uint8Array(14 + q.length);
  frame.set([0x33, 0x33, 0, 0, 0, 1, 2, 0, 0, 0, 0, 0x99, 0x86, 0xdd]);
  frame.set(q, 14);
  h.runFor(ms(2000));
  h.inject(frame);
  h.runFor(ms(200));
  const sent = h.history.map((x) => x.bytes);
  assert.equal(sent.length, 3, "two State Change Reports and one answer");
  for (const f of sent) {
    assert.deepEqual([...f.subarray(0, 6)], [0x33, 0x33, 0, 0, 0, 0x16]);
    assert.equal(f[12]! << 8 | f[13]!, 0x86dd);
    const r = readMld(f.subarray(14, 14 + 40 + (f[18]! << 8 | f[19]!)));
    assert.equal(r.src, "fe80::1");
  }
  await assertTsharkClean(h.capture!.bytes());
  h.finish();
});
