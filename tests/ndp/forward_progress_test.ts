/**
 * TCP's forward progress confirms neighbours (RFC 4861 §7.3.1; RFC 1122
 * §2.3.2.1 for ARP, which shares the cache): a transfer that lasts longer
 * than REACHABLE can (30 s randomised to 15..45 s) sends no reachability
 * probes from either end, while a peer that falls silent is still probed
 * (STALE → DELAY → PROBE) and forgotten.
 */
import assert from "node:assert/strict";
import { makeLink, ms, testPlugin } from "../_harness.ts";
import type { NeighborChangedEvent, TcpConn } from "../../mod.ts";
import type { RouteService } from "../../stack/services.ts";
import { IpAddress } from "../../stack/wire/ip_address.ts";
import { NOT_UNDER_TEST, SECOND, V6_PLUGINS } from "./_ndp.ts";

/** The link: slow enough that the transfer below spans 100 s of the network's clock. */
const LANE = { bandwidth: 256_000, delay: ms(10), queueLimit: { bytes: 16_384 } };
/** How long each transfer writes (µs): more than twice the longest REACHABLE. */
const TRANSFER = 100 * SECOND;

interface Family {
  readonly name: string;
  readonly a: string;
  readonly b: string;
  readonly prefix: number;
  /** The counter of a solicitation (NS) or ARP request, multicast or unicast. */
  readonly probes: string;
  /** The plugin that publishes the cache's `neighbor-changed` events. */
  readonly plugin: string;
}

const FAMILIES: readonly Family[] = [
  {
    name: "ndp",
    a: "fd00::1",
    b: "fd00::2",
    prefix: 64,
    probes: "ndp.tx.solicitations",
    plugin: "ndp",
  },
  {
    name: "arp",
    a: "10.0.0.1",
    b: "10.0.0.2",
    prefix: 24,
    probes: "arp.tx.requests",
    plugin: "arp",
  },
];

/** Two hosts of `f` on a slow link; `events` gets a's neighbour changes for b. */
function pair(f: Family, events: string[]) {
  const recorder = testPlugin({ name: "recorder" }, (ctx) => ({
    onEvent(ev) {
      if (ev.type !== "neighbor-changed") return;
      const e = ev as NeighborChangedEvent;
      if (e.plugin !== f.plugin || e.address !== f.b) return;
      if (ctx.interfaces.get(e.ifindex)!.mac![5] !== 1) return; // host a only
      events.push(`${e.previous} -> ${e.state}`);
    },
  }));
  return makeLink({
    addresses: [[`${f.a}/${f.prefix}`], [`${f.b}/${f.prefix}`]],
    extraPlugins: [...V6_PLUGINS, recorder],
    withoutPlugins: NOT_UNDER_TEST,
    plugins: { ndp: { dadTransmits: 0 } },
    directions: { "a->b": LANE, "b->a": LANE },
  });
}

/** Writes from `c` for `duration` µs of the network's clock; returns the bytes `s` read. */
async function transfer(
  env: ReturnType<typeof pair>,
  c: TcpConn,
  s: TcpConn,
  duration: number,
): Promise<number> {
  const end = env.net.now() + duration;
  const chunk = new Uint8Array(4096).fill(0x5a);
  let written = 0;
  const writer = (async () => {
    while (env.net.now() < end) written += await c.write(chunk);
  })();
  const buf = new Uint8Array(65536);
  let got = 0;
  while (got < written || env.net.now() < end) {
    const n = await s.read(buf);
    if (n === null) break;
    got += n;
  }
  await writer;
  return got;
}

for (const f of FAMILIES) {
  Deno.test(`${f.name}: a 100 s TCP transfer sends no reachability probes from either end (forward progress confirms)`, async () => {
    const events: string[] = [];
    const env = pair(f, events);
    env.runFor(SECOND); // the unsolicited advertisements of the new addresses go by first
    const l = env.b.listen({ port: 80, ...(f.name === "ndp" ? { hostname: "::" } : {}) });
    const [c, s] = await env.run(() =>
      Promise.all([env.a.connect({ hostname: f.b, port: 80 }), l.accept()])
    );
    const aProbes = env.a.counters.get(f.probes).value;
    const bProbes = env.b.counters.get(f.probes).value;
    assert.equal(aProbes, 1, "a resolved b once (broadcast or multicast)");
    const got = await env.run(() => transfer(env, c, s, TRANSFER), { timeout: 2 * TRANSFER });
    assert.ok(got > 2_000_000, `only ${got} bytes moved: the link was meant to stay busy`);
    assert.equal(env.a.counters.get(f.probes).value, aProbes, "a never probed b");
    assert.equal(env.b.counters.get(f.probes).value, bProbes, "b never probed a");
    assert.deepEqual(events, ["NONE -> INCOMPLETE", "INCOMPLETE -> REACHABLE"]);
    const row = env.a.neighbors().find((n) => n.address === f.b);
    assert.equal(row?.state, "REACHABLE");
    c.close();
    s.close();
    l.close();
    env.finish();
  });

  Deno.test(`${f.name}: a silent peer is still probed after a transfer (REACHABLE → STALE → DELAY → PROBE → FAILED)`, async () => {
    const events: string[] = [];
    const env = pair(f, events);
    env.runFor(SECOND); // the unsolicited advertisements of the new addresses go by first
    const l = env.b.listen({ port: 80, ...(f.name === "ndp" ? { hostname: "::" } : {}) });
    const [c, s] = await env.run(() =>
      Promise.all([env.a.connect({ hostname: f.b, port: 80 }), l.accept()])
    );
    await env.run(() => transfer(env, c, s, 10 * SECOND), { timeout: 20 * SECOND });
    const before = env.a.counters.get(f.probes).value;
    // b falls silent; a's retransmissions make no progress, so nothing confirms b.
    env.link.partition();
    void c.write(new Uint8Array(1000)).catch(() => {});
    env.runFor(60 * SECOND); // REACHABLE 15..45 s, DELAY 5 s, three probes 1 s apart
    assert.deepEqual(events, [
      "NONE -> INCOMPLETE",
      "INCOMPLETE -> REACHABLE",
      "REACHABLE -> STALE",
      "STALE -> DELAY",
      "DELAY -> PROBE",
      "PROBE -> FAILED",
      "FAILED -> NONE",
    ]);
    assert.equal(env.a.counters.get(f.probes).value - before, 3, "three unicast probes");
    c.close();
    s.close();
    l.close();
    env.finish();
  });
}

Deno.test("RouteService.confirmReachable: with nothing to confirm (ourselves, no route) it answers 1 s on; towards a neighbour, a quarter of its reachable time", () => {
  for (const f of FAMILIES) {
    const env = pair(f, []);
    const route = env.a.service<RouteService>(f.name === "ndp" ? "ipv6.route" : "ipv4.route")!;
    const key = (s: string) => IpAddress.parse(s)!.key;
    env.runFor(SECOND);
    const now = env.net.now();
    const offLink = f.name === "ndp" ? "2001:db8::1" : "192.0.2.1";
    assert.equal(route.confirmReachable!(key(f.a)), now + SECOND, `${f.name}: ourselves`);
    assert.equal(route.confirmReachable!(key(offLink)), now + SECOND, `${f.name}: no route`);
    // A neighbour not in the cache yet: nothing confirmed, the same interval as a known one.
    assert.equal(route.confirmReachable!(key(f.b)), now + 30 * SECOND / 4, `${f.name}: on-link`);
    assert.equal(env.a.neighbors().some((n) => n.address === f.b), false);
    env.finish();
  }
});
