/**
 * Unit tests of the neighbour cache ARP and NDP share
 * (`stack/ip/neighbor_cache.ts`): state transitions on the virtual clock,
 * probes, the queue bounded in real bytes, the table bound and eviction,
 * events, and option validation. The cache lives in a test plugin of a
 * stack on a raw-IP link, so released packets come out of the link.
 */
import assert from "node:assert/strict";
import { makeHost, testPlugin } from "../_harness.ts";
import type { NeighborChangedEvent, PluginContext } from "../../stack/manifest.ts";
import type { PacketBuffer } from "../../stack/packet.ts";
import { NeighborCache } from "../../stack/ip/neighbor_cache.ts";
import {
  NEIGHBOR_CACHE_COUNTERS,
  neighborCacheConfig,
  neighborCacheManifestOptions,
  type NeighborCacheOptions,
} from "../../stack/ip/neighbor_cache_options.ts";
import { formatIpKey, IpAddress } from "../../stack/wire/ip_address.ts";
import { writeIpv6Header } from "../../stack/wire/ipv6.ts";
import { ipv6Plugin } from "../../stack/protocols/ipv6/mod.ts";
import { SECOND } from "./_ndp.ts";

const DEFAULTS: NeighborCacheOptions = {
  reachableTime: 30 * SECOND,
  staleTime: 60 * SECOND,
  retransmitTime: SECOND,
  multicastProbes: 3,
  unicastProbes: 3,
  delayFirstProbeTime: 5 * SECOND,
  failedTime: 20 * SECOND,
  queueLength: 256,
  queueBytes: 524_288,
  totalQueueBytes: 1_048_576,
  maxEntries: 4096,
};
const MAC = new Uint8Array([2, 0, 0, 0, 0, 9]);
const OTHER_MAC = new Uint8Array([2, 0, 0, 0, 0, 0x42]);
const k = (s: string) => IpAddress.parse(s)!.key;
const N1 = k("fd00::9");

function harness(options: Partial<NeighborCacheOptions> = {}) {
  let ctx!: PluginContext;
  const events: string[] = [];
  const owner = testPlugin({ name: "owner", counters: [...NEIGHBOR_CACHE_COUNTERS] }, (c) => {
    ctx = c;
    return {};
  });
  const recorder = testPlugin({ name: "recorder", events: ["neighbor-changed"] }, () => ({
    onEvent(ev) {
      const e = ev as NeighborChangedEvent;
      events.push(`${e.address} ${e.previous} -> ${e.state}`);
    },
  }));
  const h = makeHost({
    linkType: 101,
    addresses: ["fd00::1/64"],
    extraPlugins: [ipv6Plugin, owner, recorder],
  });
  const solicits: string[] = [];
  const cache = new NeighborCache(ctx, { ...DEFAULTS, ...options }, {
    family: 6,
    solicit(n, unicast) {
      solicits.push(`${h.net.now()} ${unicast ? "unicast" : "multicast"} ${formatIpKey(n.key)}`);
    },
  });
  /** An IPv6 packet for `dst` in a pooled buffer. */
  const packet = (dst = N1): PacketBuffer => {
    const p = ctx.pool.alloc(40);
    writeIpv6Header(p.buf, p.start, 0, 59, 64, k("fd00::1"), dst);
    return p;
  };
  /** Resolves a packet for `key`; when resolved at once the caller (we) releases it. */
  const use = (key = N1): void => {
    const p = packet(key);
    if (cache.resolve(h.iface.index, key, p) !== null) p.release();
  };
  const state = (key = N1) => cache.get(h.iface.index, key)?.state;
  const counter = (name: string) => h.counter(`owner.${name}`);
  return { h, cache, events, solicits, packet, use, state, counter, ifindex: h.iface.index };
}

Deno.test("neighbor cache: an unknown neighbour is INCOMPLETE, solicited, its packet queued; confirm releases it", () => {
  const t = harness();
  assert.equal(t.cache.resolve(t.ifindex, N1, t.packet()), null);
  assert.equal(t.state(), "INCOMPLETE");
  assert.deepEqual(t.solicits, ["0 multicast fd00::9"]);
  assert.equal(t.cache.entries()[0]?.queued, 1);
  assert.deepEqual(t.h.take(), []);
  t.cache.confirm(t.cache.get(t.ifindex, N1)!, MAC);
  assert.equal(t.state(), "REACHABLE");
  t.h.runFor(0);
  assert.equal(t.h.take().length, 1, "the queued packet left through the link output");
  const p = t.packet();
  assert.deepEqual(t.cache.resolve(t.ifindex, N1, p), MAC);
  p.release(); // resolved: the caller keeps it
  t.cache.close();
  t.h.finish();
});

Deno.test("neighbor cache: REACHABLE turns STALE between 0.5 and 1.5 times reachableTime (ctx.rng)", () => {
  const t = harness({ reachableTime: 10 * SECOND });
  const keys = [...Array(20).keys()].map((i) => k(`fd00::${i + 10}`));
  for (const key of keys) t.cache.confirm(t.cache.learn(t.ifindex, key, MAC)!, null);
  t.h.runFor(5 * SECOND - 1);
  assert.ok(keys.every((key) => t.state(key) === "REACHABLE"));
  t.h.runFor(5 * SECOND);
  const stale = keys.filter((key) => t.state(key) === "STALE").length;
  assert.ok(stale > 3 && stale < 17, `randomised: ${stale} of 20 stale at 10 s`);
  t.h.runFor(5 * SECOND + 1);
  assert.ok(keys.every((key) => t.state(key) === "STALE"));
  t.cache.close();
  t.h.finish();
});

Deno.test("neighbor cache: STALE used → DELAY → PROBE (unicast probes 1 s apart) → FAILED → removed", () => {
  const t = harness();
  t.cache.learn(t.ifindex, N1, MAC);
  assert.equal(t.state(), "STALE");
  const p = t.packet();
  assert.deepEqual(t.cache.resolve(t.ifindex, N1, p), MAC, "sent at once to the stale MAC");
  p.release();
  assert.equal(t.state(), "DELAY");
  t.h.runFor(5 * SECOND - 1);
  assert.equal(t.state(), "DELAY");
  t.h.runFor(1);
  assert.equal(t.state(), "PROBE");
  t.h.runFor(3 * SECOND);
  assert.equal(t.state(), undefined);
  assert.deepEqual(t.solicits, [
    `${5 * SECOND} unicast fd00::9`,
    `${6 * SECOND} unicast fd00::9`,
    `${7 * SECOND} unicast fd00::9`,
  ]);
  assert.deepEqual(t.events, [
    "fd00::9 NONE -> STALE",
    "fd00::9 STALE -> DELAY",
    "fd00::9 DELAY -> PROBE",
    "fd00::9 PROBE -> FAILED",
    "fd00::9 FAILED -> NONE",
  ]);
  t.cache.close();
  t.h.finish();
});

Deno.test("neighbor cache: a confirmation in DELAY makes it REACHABLE without a probe", () => {
  const t = harness();
  t.cache.learn(t.ifindex, N1, MAC);
  t.use();
  t.h.runFor(2 * SECOND);
  t.cache.confirm(t.cache.get(t.ifindex, N1)!, null);
  t.h.runFor(10 * SECOND);
  assert.equal(t.state(), "REACHABLE");
  assert.deepEqual(t.solicits, []);
  t.cache.close();
  t.h.take();
  t.h.finish();
});

Deno.test("neighbor cache: INCOMPLETE gives up after multicastProbes; the queued packets go to onUnresolved", () => {
  const t = harness({ multicastProbes: 2, failedTime: 4 * SECOND });
  const failed: number[] = [];
  t.cache.onUnresolved = (ifindex, pkt) => void failed.push(ifindex, pkt.length);
  t.cache.resolve(t.ifindex, N1, t.packet());
  t.cache.resolve(t.ifindex, N1, t.packet());
  t.h.runFor(2 * SECOND);
  assert.equal(t.state(), "FAILED");
  assert.deepEqual(t.solicits, ["0 multicast fd00::9", `${SECOND} multicast fd00::9`]);
  assert.deepEqual(failed, [t.ifindex, 40, t.ifindex, 40]);
  assert.equal(t.counter("tx.unresolved"), 2);
  assert.equal(t.cache.resolve(t.ifindex, N1, t.packet()), null, "FAILED drops at once");
  assert.equal(t.counter("tx.unresolved"), 3);
  t.h.runFor(4 * SECOND);
  assert.equal(t.state(), undefined, "gone after failedTime");
  t.cache.close();
  t.h.finish();
});

Deno.test("neighbor cache: queues are bounded in real bytes (whole pooled buffers), per neighbour and in total", () => {
  const probe = harness();
  const one = probe.packet();
  const size = one.buf.byteLength; // what one queued packet really holds
  one.release();
  probe.cache.close();
  probe.h.finish();
  const t = harness({ queueBytes: 2 * size, totalQueueBytes: 3 * size });
  for (let i = 0; i < 3; i++) t.cache.resolve(t.ifindex, N1, t.packet());
  assert.equal(t.cache.entries()[0]?.queued, 2, "40-byte packets, yet only two fit in 2 buffers");
  assert.equal(t.counter("tx.queue_full"), 1);
  const n2 = k("fd00::10");
  t.cache.resolve(t.ifindex, n2, t.packet(n2));
  t.cache.resolve(t.ifindex, n2, t.packet(n2));
  assert.equal(t.counter("tx.queue_total_full"), 1, "the oldest waiting packet of all went");
  assert.deepEqual(t.cache.entries().map((e) => e.queued), [1, 2]);
  t.cache.close();
  t.h.finish();
});

Deno.test("neighbor cache: maxEntries evicts the least recently used entry, sparing used and INCOMPLETE ones", () => {
  const t = harness({ maxEntries: 3 });
  const [a, b, c, d] = ["fd00::a", "fd00::b", "fd00::c", "fd00::d"].map(k);
  t.cache.learn(t.ifindex, a!, MAC);
  t.cache.learn(t.ifindex, b!, MAC);
  t.cache.resolve(t.ifindex, c!, t.packet(c)); // INCOMPLETE: never evicted
  t.use(a); // a used (DELAY): a second chance
  t.h.take();
  t.cache.learn(t.ifindex, d!, MAC);
  assert.deepEqual(t.cache.entries().map((e) => e.address).sort(), [
    "fd00::a",
    "fd00::c",
    "fd00::d",
  ]);
  assert.equal(t.counter("cache.evicted"), 1);
  assert.equal(t.cache.size, 3);
  t.cache.close();
  t.h.finish();
});

Deno.test("neighbor cache: a cache full of INCOMPLETE entries refuses a new one as cache.full", () => {
  const t = harness({ maxEntries: 2 });
  for (const s of ["fd00::a", "fd00::b", "fd00::c"]) {
    t.cache.resolve(t.ifindex, k(s), t.packet(k(s)));
  }
  assert.equal(t.cache.size, 2);
  assert.equal(t.counter("cache.full"), 1);
  assert.equal(t.counter("tx.unresolved"), 1);
  assert.equal(t.cache.learn(t.ifindex, k("fd00::d"), MAC), undefined);
  t.cache.close();
  t.h.finish();
});

Deno.test("neighbor cache: learn keeps a confirmed entry at the same address; a new address makes it STALE", () => {
  const t = harness();
  const n = t.cache.learn(t.ifindex, N1, MAC)!;
  t.cache.confirm(n, null);
  t.cache.learn(t.ifindex, N1, MAC);
  assert.equal(t.state(), "REACHABLE");
  t.cache.learn(t.ifindex, N1, OTHER_MAC);
  assert.equal(t.state(), "STALE");
  assert.equal(t.cache.entries()[0]?.mac, "02:00:00:00:00:42");
  t.cache.confirm(n, null);
  t.cache.markStale(n);
  assert.equal(t.state(), "STALE");
  // An INCOMPLETE entry learned: STALE, and its packets leave.
  const n2 = k("fd00::10");
  t.cache.resolve(t.ifindex, n2, t.packet(n2));
  t.h.take();
  t.cache.learn(t.ifindex, n2, MAC);
  assert.equal(t.state(n2), "STALE");
  t.h.runFor(0);
  assert.equal(t.h.take().length, 1);
  t.cache.close();
  t.h.finish();
});

Deno.test("neighbor cache: a PERMANENT entry never ages and is not changed by what is heard", () => {
  const t = harness();
  t.cache.addStatic(t.ifindex, N1, MAC);
  t.cache.learn(t.ifindex, N1, OTHER_MAC);
  t.cache.confirm(t.cache.get(t.ifindex, N1)!, OTHER_MAC);
  t.cache.flushInterface(t.ifindex);
  t.h.runFor(1000 * SECOND);
  assert.deepEqual(t.cache.entries(), [{
    ifname: "tun0",
    address: "fd00::9",
    mac: "02:00:00:00:00:09",
    state: "PERMANENT",
    queued: 0,
  }]);
  assert.equal(t.h.stack.pendingTimers, 0, "nothing scheduled for it");
  t.cache.close();
  t.h.finish();
});

Deno.test("neighbor cache: flushInterface drops learned entries and their waiting packets", () => {
  const t = harness();
  t.cache.learn(t.ifindex, k("fd00::a"), MAC);
  t.cache.resolve(t.ifindex, N1, t.packet());
  t.cache.flushInterface(t.ifindex);
  assert.equal(t.cache.size, 0);
  assert.equal(t.counter("tx.unresolved"), 1);
  t.cache.close();
  t.h.finish();
});

Deno.test("neighbor cache: a next hop of the other family is dropped as tx.unresolved, with no entry and no solicitation", () => {
  const t = harness();
  let told = 0;
  t.cache.onUnresolved = () => told++;
  const p = t.packet();
  assert.equal(t.cache.resolve(t.ifindex, k("192.0.2.9"), p), null);
  assert.equal(t.counter("tx.unresolved"), 1);
  assert.ok(p.released);
  assert.deepEqual([t.cache.entries(), t.solicits, told], [[], [], 0]);
  t.cache.close();
  t.h.finish();
});

Deno.test("neighbor cache: neighborCacheConfig reads the options neighborCacheManifestOptions declared; ARP's retries sets both probe counts", () => {
  const declared = neighborCacheManifestOptions({
    probes: { retries: { default: 7, description: "requests" } },
    maxEntries: 99,
    descriptions: { staleTime: "own words" },
  });
  assert.deepEqual(Object.keys(declared), [
    "reachableTime",
    "staleTime",
    "retransmitTime",
    "retries",
    "delayFirstProbeTime",
    "failedTime",
    "queueLength",
    "queueBytes",
    "totalQueueBytes",
    "maxEntries",
  ]);
  assert.equal(declared.staleTime?.description, "own words");
  const defaults = Object.fromEntries(Object.entries(declared).map(([n, s]) => [n, s.default]));
  assert.deepEqual(neighborCacheConfig(defaults, { multicast: "retries", unicast: "retries" }), {
    ...DEFAULTS,
    multicastProbes: 7,
    unicastProbes: 7,
    maxEntries: 99,
  });
});

Deno.test("neighbor cache: options are checked (not whole: TypeError, out of range: RangeError)", () => {
  const t = harness();
  let ctx!: PluginContext;
  const grab = testPlugin({ name: "grab", counters: [...NEIGHBOR_CACHE_COUNTERS] }, (c) => {
    ctx = c;
    return {};
  });
  const h = makeHost({ linkType: 101, extraPlugins: [grab] });
  const make = (o: Partial<NeighborCacheOptions>) =>
    new NeighborCache(ctx, { ...DEFAULTS, ...o }, { family: 4, solicit() {} });
  assert.throws(() => make({ retransmitTime: 1.5 }), TypeError);
  assert.throws(() => make({ maxEntries: Number.NaN }), TypeError);
  assert.throws(() => make({ maxEntries: 0 }), RangeError);
  assert.throws(() => make({ multicastProbes: 0 }), RangeError);
  assert.throws(() => make({ queueBytes: -1 }), RangeError);
  make({}).close();
  h.finish();
  t.cache.close();
  t.h.finish();
});

Deno.test("neighbor cache: setLinkTimers applies to its interface only; a field left out keeps its value; clearLinkTimers restores the cache's", () => {
  const t = harness();
  const other = t.ifindex + 1;
  t.cache.setLinkTimers(t.ifindex, { retransmitTime: 250_000 });
  t.cache.setLinkTimers(t.ifindex, { reachableTime: 4 * SECOND });
  assert.equal(t.cache.retransmitTime(t.ifindex), 250_000, "kept");
  assert.equal(t.cache.reachableTime(t.ifindex), 4 * SECOND);
  assert.equal(t.cache.retransmitTime(other), SECOND);
  assert.equal(t.cache.reachableTime(other), 30 * SECOND);
  // The solicitations of an unanswered resolution follow the link's RetransTimer.
  t.use();
  t.h.runFor(SECOND);
  assert.deepEqual(t.solicits, [
    "0 multicast fd00::9",
    "250000 multicast fd00::9",
    "500000 multicast fd00::9",
  ]);
  assert.equal(t.state(), "FAILED");
  assert.throws(() => t.cache.setLinkTimers(t.ifindex, { reachableTime: 0 }), RangeError);
  assert.throws(() => t.cache.setLinkTimers(t.ifindex, { retransmitTime: 0.5 }), TypeError);
  t.cache.clearLinkTimers(t.ifindex);
  assert.equal(t.cache.retransmitTime(t.ifindex), SECOND);
  t.cache.close();
  t.h.finish();
});

Deno.test("neighbor cache: a reachable time equal to the base in force changes no REACHABLE lifetime; a new one re-draws it", () => {
  /** When the entry confirmed at 0 turns STALE, after `set` at 1 s. */
  const staleAt = (set: (t: ReturnType<typeof harness>) => void): number => {
    const t = harness();
    t.cache.confirm(t.cache.learn(t.ifindex, N1, MAC)!, null);
    t.h.runFor(SECOND);
    set(t);
    while (t.state() === "REACHABLE") t.h.runFor(100_000);
    const at = t.h.net.now();
    t.cache.close();
    t.h.finish();
    return at;
  };
  const untouched = staleAt(() => {});
  assert.equal(
    staleAt((t) => t.cache.setLinkTimers(t.ifindex, { reachableTime: 30 * SECOND })),
    untouched,
  );
  const shorter = staleAt((t) => t.cache.setLinkTimers(t.ifindex, { reachableTime: 2 * SECOND }));
  assert.ok(shorter <= 3 * SECOND + 100_000, `STALE at ${shorter} µs`);
});

Deno.test("neighbor cache: an upper-layer hint confirms an entry with a link address (not INCOMPLETE, FAILED, PERMANENT); it answers a quarter of the base reachable time on", () => {
  const t = harness({ reachableTime: 8 * SECOND });
  const [stale, delay, probe, reachable] = [
    k("fd00::11"),
    k("fd00::12"),
    k("fd00::13"),
    k("fd00::14"),
  ];
  const [fixed, unknown, failed, incomplete] = [
    k("fd00::15"),
    k("fd00::16"),
    k("fd00::17"),
    k("fd00::18"),
  ];
  for (const key of [stale, delay, probe, reachable]) t.cache.learn(t.ifindex, key, MAC);
  t.use(delay);
  t.use(probe);
  t.cache.confirm(t.cache.get(t.ifindex, reachable)!, null);
  t.cache.addStatic(t.ifindex, fixed, MAC);
  t.use(failed);
  t.h.runFor(5 * SECOND); // `probe` is probed now, `failed` gave up
  t.cache.markStale(t.cache.get(t.ifindex, delay)!);
  t.use(delay);
  t.use(incomplete);
  const all = [stale, delay, probe, reachable, fixed, unknown, failed, incomplete];
  assert.deepEqual(all.map((key) => t.state(key)), [
    "STALE",
    "DELAY",
    "PROBE",
    "REACHABLE",
    "PERMANENT",
    undefined,
    "FAILED",
    "INCOMPLETE",
  ]);
  const now = t.h.net.now();
  for (const key of all) assert.equal(t.cache.hint(t.ifindex, key), now + 2 * SECOND);
  assert.deepEqual(all.map((key) => t.state(key)), [
    "REACHABLE",
    "REACHABLE",
    "REACHABLE",
    "REACHABLE",
    "PERMANENT",
    undefined,
    "FAILED",
    "INCOMPLETE",
  ]);
  // A link's own base reachable time (from a Router Advertisement) sets the interval.
  t.cache.setLinkTimers(t.ifindex, { reachableTime: 40 * SECOND });
  assert.equal(t.cache.hint(t.ifindex, reachable), now + 10 * SECOND);
  t.cache.close();
  t.h.take();
  t.h.finish();
});

Deno.test("neighbor cache: hints a quarter of the base reachable time apart keep an entry REACHABLE; without them it goes STALE", () => {
  const t = harness({ reachableTime: 8 * SECOND });
  const [hinted, left] = [k("fd00::21"), k("fd00::22")];
  for (const key of [hinted, left]) t.cache.confirm(t.cache.learn(t.ifindex, key, MAC)!, null);
  let next = 0;
  for (let i = 0; i < 60; i++) {
    // Forward progress every 0.5 s; hints only once the answered instant has passed.
    t.h.runFor(SECOND / 2);
    if (t.h.net.now() >= next) next = t.cache.hint(t.ifindex, hinted);
    assert.equal(t.state(hinted), "REACHABLE", `at ${t.h.net.now()} µs`);
  }
  assert.equal(t.state(left), "STALE");
  assert.deepEqual(t.solicits, []);
  t.cache.close();
  t.h.finish();
});

for (const [what, length, fillers] of [["small", 40, 600], ["jumbo", 8000, 63]] as const) {
  Deno.test(`neighbor cache: ${what} packets waiting for resolution keep alive no more than the queue charges`, () => {
    // Each waits among as many other buffers of its class as fill the rest of
    // a slab, released after: kept as they came, each kept its slab (1 MiB).
    const t = harness({ totalQueueBytes: 64 << 20, multicastProbes: 1 });
    const pool = t.h.stack.pool;
    const N = 24;
    const others: PacketBuffer[] = [];
    for (let i = 0; i < N; i++) {
      for (let k = 0; k < fillers; k++) others.push(pool.alloc(length + 14));
      const dst = k(`fd00::${(0x100 + i).toString(16)}`);
      const p = pool.alloc(40 + length);
      writeIpv6Header(p.buf, p.start, length, 59, 64, k("fd00::1"), dst);
      t.cache.resolve(t.ifindex, dst, p);
    }
    for (const o of others) o.release();
    assert.deepEqual(t.cache.entries().map((e) => e.queued), new Array(N).fill(1));
    // What the queues hold, seen as each gives up (FAILED) before its release.
    const stores = new Set<ArrayBufferLike>();
    let charged = 0;
    t.cache.onUnresolved = (_ifindex, pkt) => {
      assert.equal(pkt.length, 40 + length, "the packet's bytes kept");
      stores.add(pkt.buf.buffer);
      charged += pkt.buf.byteLength;
    };
    t.h.runFor(2 * SECOND);
    assert.equal(t.counter("tx.unresolved"), N);
    let pinned = 0;
    for (const s of stores) pinned += s.byteLength;
    assert.ok(pinned <= charged, `the queues keep ${pinned} bytes alive and charge ${charged}`);
    t.cache.close();
    assert.equal(pool.outstanding, 0);
    t.h.finish();
  });
}
