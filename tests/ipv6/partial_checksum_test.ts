/**
 * TCP/IPv6 segments between two stacks in memory leave with a partial
 * checksum (the pseudo-header sum only, `PacketFlags.CHECKSUM_PARTIAL`), as
 * TCP/IPv4 ones do: the in-memory link hands them partial to the other
 * stack, which takes them in TCP without summing; every reader of the bytes
 * gets them whole (hooks at prerouting/input and at the sender's
 * output/postrouting/egress, a capture).
 *
 * @module
 */
import assert from "node:assert/strict";
import { HOOK_POINTS, type HookPoint, type ProtocolPlugin } from "../../mod.ts";
import { pseudoHeaderSumV6, sumRange } from "../../stack/wire/checksum.ts";
import { Capture, EnvBase, type LinkPair, ms, pluginsWith } from "../_harness.ts";
import { tsharkProblems } from "../_tshark.ts";
import { VirtualNetwork } from "../../drivers/loopback/mod.ts";
import { readFull } from "../../drivers/loopback/scenario.ts";
import type { Stack } from "../../mod.ts";
import { type HookSight, hookWatcher } from "../hooks/_watcher.ts";

/** One TCP segment seen at a hook point. */
type Seen = HookSight & {
  /** The checksum verifies as the bytes stand. */
  readonly whole: boolean;
  /** The checksum verifies once a copy is completed from the pseudo-header sum in the field. */
  readonly completes: boolean;
};

/** Whether the TCP checksum of the IPv6 packet at `at` (TCP right after the header) verifies. */
function tcpValid(buf: Uint8Array, at: number, end: number): boolean {
  const pseudo = pseudoHeaderSumV6(
    buf.subarray(at + 8, at + 24),
    buf.subarray(at + 24, at + 40),
    6,
    end - at - 40,
  );
  return sumRange(buf, at + 40, end, pseudo) === 0xffff;
}

/** The checksum a partial segment gets once completed (as finishPartialChecksum), on a copy. */
function completesValid(buf: Uint8Array, at: number, end: number): boolean {
  const copy = buf.slice(at, end);
  const c = ~sumRange(copy, 40, copy.length) & 0xffff;
  copy[56] = c >>> 8;
  copy[57] = c & 0xff;
  return tcpValid(copy, 0, copy.length);
}

/** A plugin joining `points`, recording the TCP/IPv6 segments it sees (raw IP: the header at `start`). */
function watcher(name: string, points: readonly HookPoint[], seen: Seen[]): ProtocolPlugin {
  return hookWatcher(seen, (pkt) => {
    const at = pkt.start, b = pkt.buf;
    if (b[at]! >>> 4 !== 6 || b[at + 6] !== 6) return null;
    return { whole: tcpValid(b, at, pkt.end), completes: completesValid(b, at, pkt.end) };
  }, { name, points });
}

function pattern(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + 7) & 0xff;
  return b;
}

/** A port tshark decodes as plain TCP (80 would be HTTP, whose bulk data it flags). */
const PORT = 49999;

/** Connects `from` to `to`'s [hostname]:PORT, sends `data` both ways, checks it arrives intact. */
async function exchange(from: Stack, to: Stack, hostname: string, data: Uint8Array) {
  using l = to.listen({ hostname, port: PORT });
  const [c, s] = await Promise.all([from.connect({ hostname, port: PORT }), l.accept()]);
  for (const [w, r] of [[c, s], [s, c]] as const) {
    const writer = w.write(data);
    const got = new Uint8Array(data.length);
    const whole = await readFull(r, got);
    await writer;
    assert.ok(whole, "the whole payload arrived");
    assert.deepEqual(got, data);
  }
  c.close();
  s.close();
}

/**
 * Two stacks on a raw-IP in-memory link, fd00::1 (a) and fd00::2 (b); `bPlugins`
 * join b only (a has no hooks, so it sends its segments partial); a's side
 * recorded when `capture`.
 */
function pair(bPlugins: ProtocolPlugin[], capture: Capture | null = null): LinkPair {
  const net = new VirtualNetwork({ seed: 41 });
  const link = net.link({ linkType: 101, faults: { delay: ms(1) } });
  const base = new EnvBase(net, capture);
  const a = base.newStack("a", pluginsWith());
  const b = base.newStack("b", pluginsWith({}, bPlugins));
  a.addInterface({
    driver: capture ? capture.tap(link.a, { name: "a" }) : link.a,
    addresses: ["fd00::1/64"],
  });
  b.addInterface({ driver: link.b, addresses: ["fd00::2/64"] });
  return Object.assign(base, { link, a, b });
}

const at = (seen: Seen[], p: HookPoint) => seen.filter((s) => s.point === p);

Deno.test("ipv6 tcp: a segment to another stack in memory arrives partial; hooks see it whole", async () => {
  // The watcher joins every point on b only: a sends partial, b's own sends
  // are completed for b's output hooks.
  const seen: Seen[] = [];
  const env = pair([watcher("watch", HOOK_POINTS, seen)]);
  await env.run(() => exchange(env.a, env.b, "fd00::2", pattern(50_000)), { timeout: ms(60_000) });
  const ingress = at(seen, "ingress");
  assert.ok(ingress.length > 10);
  // From a: partial at b's ingress, and completing it gives a valid checksum.
  assert.ok(ingress.every((s) => s.partial && s.completes));
  assert.ok(ingress.some((s) => !s.whole)); // really left unsummed
  // Whole and valid wherever a hook reads it after ingress, and on b's way out.
  for (const p of ["prerouting", "input", "output", "postrouting", "egress"] as const) {
    assert.ok(at(seen, p).length > 10, p);
    assert.ok(at(seen, p).every((s) => !s.partial && s.whole), p);
  }
  assert.equal(env.a.counters.value("tcp.in_errs"), 0);
  assert.equal(env.b.counters.value("tcp.in_errs"), 0);
  env.finish();
});

Deno.test("ipv6 tcp: with no hook at all, segments both ways cross partial and arrive intact", async () => {
  // Only ingress (which sees a packet as the link hands it over, and forces no completion).
  const seen: Seen[] = [];
  const env = pair([watcher("watch", ["ingress"], seen)]);
  await env.run(() => exchange(env.a, env.b, "fd00::2", pattern(100_000)), { timeout: ms(60_000) });
  const ingress = at(seen, "ingress");
  assert.ok(ingress.length > 20);
  assert.ok(ingress.every((s) => s.partial && s.completes));
  assert.equal(env.a.counters.value("tcp.in_errs"), 0);
  assert.equal(env.b.counters.value("tcp.in_errs"), 0);
  env.finish();
});

Deno.test("ipv6 tcp: a capture of partial segments (b's, completed by the tap) is tshark-clean", async () => {
  const capture = new Capture({ linkType: 101 });
  const env = pair([], capture);
  await env.run(() => exchange(env.a, env.b, "fd00::2", pattern(50_000)), { timeout: ms(60_000) });
  env.finish();
  const frames = capture.frames().filter((f) => f[0]! >>> 4 === 6 && f[6] === 6);
  assert.ok(frames.length > 20);
  // Every TCP segment in the file verifies: b's left b partial and a's tap completed them.
  assert.ok(frames.every((f) => tcpValid(f, 0, f.length)));
  const t = await tsharkProblems(capture.bytes());
  assert.deepEqual(t.problems, []);
});
