/**
 * Two stacks with the NDP plugin on one Ethernet link (the loopback
 * network): they resolve each other over IPv6 and exchange UDP; DAD passes
 * for distinct addresses and fails for the second host of a duplicate one;
 * NUD follows a partitioned and healed link.
 */
import assert from "node:assert/strict";
import { makeLink, testPlugin } from "../_harness.ts";
import type { NeighborChangedEvent } from "../../mod.ts";
import type { RouteService } from "../../stack/services.ts";
import { tsharkProblems } from "../_tshark.ts";
import { pseudoHeaderSum } from "../../stack/ip/pseudo_header.ts";
import { finishChecksum, sumBytes } from "../../stack/wire/checksum.ts";
import type { UdpService } from "../../stack/services.ts";
import { IpAddress } from "../../stack/wire/ip_address.ts";
import { addressState, neighbors6, NOT_UNDER_TEST, SECOND, V6_PLUGINS } from "./_ndp.ts";

const A = "fd00::1";
const B = "fd00::2";

function pair(extra: Parameters<typeof makeLink>[0] = {}) {
  return makeLink({
    addresses: [["10.0.0.1/24", `${A}/64`], ["10.0.0.2/24", `${B}/64`]],
    extraPlugins: V6_PLUGINS,
    withoutPlugins: NOT_UNDER_TEST,
    ...extra,
  });
}

/** Sends one datagram a → b:7 and returns what b's socket got (or -1). */
function udpAtoB(env: ReturnType<typeof pair>, payload: Uint8Array, wait = SECOND): number {
  const ua = env.a.service<UdpService>("udp.sockets")!;
  const ub = env.b.service<UdpService>("udp.sockets")!;
  const sb = ub.open({ address: IpAddress.parse(B)!, port: 7 });
  const sa = ua.open({ family: 6 });
  assert.ok(typeof sa !== "string" && typeof sb !== "string");
  try {
    assert.equal(sa.send(payload, IpAddress.parse(B)!, 7), undefined);
    env.runFor(wait);
    return sb.recv(new Uint8Array(2048));
  } finally {
    sa.close();
    sb.close();
  }
}

Deno.test("ndp two hosts: DAD passes, then UDP over IPv6 resolves the peer (INCOMPLETE → REACHABLE)", () => {
  const env = pair();
  assert.equal(addressState(env.a, A), "tentative");
  assert.equal(addressState(env.b, B), "tentative");
  env.runFor(3 * SECOND); // at most 1 s of random delay, one probe, 1 s of waiting
  assert.equal(addressState(env.a, A), "preferred");
  assert.equal(addressState(env.b, B), "preferred");
  assert.equal(env.a.counters.get("ndp.dad.passed").value, 1);
  assert.equal(udpAtoB(env, new Uint8Array([1, 2, 3])), 3);
  const rows = neighbors6(env.a);
  assert.deepEqual(rows, [{
    ifname: "eth0",
    address: B,
    mac: "02:00:00:00:00:02",
    state: "REACHABLE",
    queued: 0,
  }]);
  // b learned a from the solicitation's source link-layer option (STALE),
  // then used it for nothing yet: STALE stays until used.
  assert.equal(neighbors6(env.b)[0]?.address, A);
  assert.equal(env.a.counters.get("ndp.tx.solicitations").value, 1);
  assert.equal(env.b.counters.get("ndp.tx.advertisements").value, 1);
  env.finish();
});

Deno.test("ndp two hosts: an ICMPv6 echo from b is answered by a; both resolved each other", () => {
  const env = pair();
  env.runFor(3 * SECOND);
  const route = env.b.service<RouteService>("ipv6.route")!;
  const dst = IpAddress.parse(A)!.key;
  const src = route.selectSource(dst);
  assert.equal(IpAddress.fromKey(src).toString(), B);
  const pkt = env.b.pool.alloc(16);
  pkt.data.set([128, 0, 0, 0, 0x12, 0x34, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8]);
  const sum = finishChecksum(sumBytes(pkt.data, pseudoHeaderSum(src, dst, 58, 16)));
  pkt.data[2] = sum >> 8;
  pkt.data[3] = sum & 0xff;
  assert.equal(route.send(pkt, src, dst, 58, 0, 0), undefined);
  env.runFor(SECOND);
  assert.equal(env.a.counters.get("icmpv6.tx.echo_replies").value, 1);
  assert.equal(env.b.counters.get("icmpv6.rx.echo_replies").value, 1);
  assert.equal(neighbors6(env.b)[0]?.state, "REACHABLE");
  assert.equal(neighbors6(env.a)[0]?.address, B);
  env.finish();
});

Deno.test("ndp two hosts: the second host of a duplicate address marks it duplicate and never uses it", async () => {
  const env = pair({ capture: true });
  env.runFor(3 * SECOND);
  // b now adds a's address: its probe meets a's defence.
  env.b.addAddress("eth0", `${A}/64`);
  assert.equal(addressState(env.b, A), "tentative");
  env.runFor(3 * SECOND);
  assert.equal(addressState(env.b, A), "duplicate");
  assert.equal(addressState(env.a, A), "preferred", "the first host keeps it");
  assert.equal(env.b.counters.get("ndp.dad.duplicates").value, 1);
  assert.equal(env.a.counters.get("ndp.tx.advertisements").value, 1, "a defended its address");
  // Never used: not b's (no source, no destination), and b answers no solicitation for it.
  const route6 = env.b.service<RouteService>("ipv6.route")!;
  assert.equal(route6.isAssigned(IpAddress.parse(A)!.key), false);
  assert.equal(udpAtoB(env, new Uint8Array([9])), 1, "a still reaches b");
  assert.equal(env.b.counters.get("ndp.rx.duplicate_target").value, 0);
  // The probes from ::, the defence and the rest decode cleanly.
  const r = await tsharkProblems(env.capture!.bytes());
  if (!r.skipped) assert.deepEqual(r.problems, []);
  env.finish();
});

Deno.test("ndp two hosts: NUD through a partitioned and healed link (STALE → DELAY → PROBE → FAILED, then resolved again)", async () => {
  const events: string[] = [];
  const recorder = testPlugin({ name: "recorder" }, (ctx) => ({
    onEvent(ev) {
      if (ev.type !== "neighbor-changed") return;
      const e = ev as NeighborChangedEvent;
      if (e.plugin !== "ndp" || ctx.interfaces.get(e.ifindex)!.mac![5] !== 1) return;
      events.push(`${e.address}: ${e.previous} -> ${e.state}`);
    },
  }));
  const env = pair({ extraPlugins: [...V6_PLUGINS, recorder], capture: true });
  env.runFor(3 * SECOND);
  assert.equal(udpAtoB(env, new Uint8Array([1])), 1);
  env.runFor(46 * SECOND); // REACHABLE lasts 15..45 s (30 s randomised)
  assert.equal(neighbors6(env.a)[0]?.state, "STALE");
  env.link.partition();
  assert.equal(udpAtoB(env, new Uint8Array([2]), 0), -1);
  assert.equal(neighbors6(env.a)[0]?.state, "DELAY");
  env.runFor(5 * SECOND);
  assert.equal(neighbors6(env.a)[0]?.state, "PROBE");
  env.runFor(3 * SECOND); // three unicast probes 1 s apart, unanswered
  assert.deepEqual(neighbors6(env.a), [], "deleted after the last probe (RFC 4861 §7.3.3)");
  assert.equal(env.a.counters.get("ndp.tx.solicitations").value, 4, "1 multicast + 3 unicast");
  env.link.heal();
  assert.equal(udpAtoB(env, new Uint8Array([3, 3])), 2, "resolved again once healed");
  assert.equal(neighbors6(env.a)[0]?.state, "REACHABLE");
  assert.deepEqual(events, [
    `${B}: NONE -> INCOMPLETE`,
    `${B}: INCOMPLETE -> REACHABLE`,
    `${B}: REACHABLE -> STALE`,
    `${B}: STALE -> DELAY`,
    `${B}: DELAY -> PROBE`,
    `${B}: PROBE -> FAILED`,
    `${B}: FAILED -> NONE`,
    `${B}: NONE -> INCOMPLETE`,
    `${B}: INCOMPLETE -> REACHABLE`,
  ]);
  // Every frame a sent and received decodes cleanly (NDP, UDP over IPv6).
  const r = await tsharkProblems(env.capture!.bytes());
  if (!r.skipped) {
    assert.ok(r.frames > 10);
    assert.deepEqual(r.problems, []);
  }
  env.finish();
});
