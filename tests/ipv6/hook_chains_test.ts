/**
 * IPv6 reads which hook chains exist once, at set-up (as IPv4): a hook
 * plugin set up after the IPv6 plugin (loaded after the defaults) must
 * still see every IPv6 packet at each of the five network-layer points.
 */
import assert from "node:assert/strict";
import type { PacketBuffer } from "../../mod.ts";
import { type HookSight, hookWatcher } from "../hooks/_watcher.ts";
import { count, makeRoutedNet6 } from "./_topology6.ts";

const POINTS = ["prerouting", "input", "forward", "output", "postrouting"] as const;

/** The ICMPv6 type of an IPv6 packet with no extension header (raw IP: the header at `start`). */
function icmpv6TypeOf(pkt: PacketBuffer): { type: number } | null {
  const at = pkt.l3 >= 0 ? pkt.l3 : pkt.start;
  if (pkt.family !== 6 || pkt.buf[at + 6] !== 58) return null;
  return { type: pkt.buf[at + 40]! };
}

Deno.test("ipv6 hooks: a watcher set up after IPv6 sees forwarded and local packets at all five points", async () => {
  const seen: (HookSight & { type: number })[] = [];
  const n = makeRoutedNet6({ r1Plugins: [hookWatcher(seen, icmpv6TypeOf, { points: POINTS })] });
  // Through R1: the echo request and its reply are forwarded.
  await n.run(() => n.h1.ping("fd03::30"));
  const echo = (s: HookSight & { type: number }) => s.type === 128 || s.type === 129;
  assert.deepEqual(seen.filter(echo).map((s) => [s.point, s.type]), [
    ["prerouting", 128],
    ["forward", 128],
    ["postrouting", 128],
    ["prerouting", 129],
    ["forward", 129],
    ["postrouting", 129],
  ]);
  assert.equal(count(n.r1, "ipv6.fwd.forwarded"), 2);
  // To R1 itself: delivered (prerouting, input) and answered (output, postrouting).
  seen.length = 0;
  await n.run(() => n.h1.ping("fd01::1"));
  assert.deepEqual(seen.filter(echo).map((s) => [s.point, s.type]), [
    ["prerouting", 128],
    ["input", 128],
    ["output", 129],
    ["postrouting", 129],
  ]);
  n.finish();
});
