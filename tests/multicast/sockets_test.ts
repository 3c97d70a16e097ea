/**
 * Multicast UDP sockets on the loopback network (issue #11): joins shaped
 * like Deno's, several sockets sharing a group and port, leaves that keep
 * the group while another member remains, RFC 3678 source filters at the
 * interface and at the socket, multicast loopback, TTL and the outgoing
 * interface, memberships dropped on close.
 */
import assert from "node:assert/strict";
import { type Env, EnvBase, type Lan, makeLan, ms, withEnv } from "../_harness.ts";
import { VirtualNetwork } from "../../drivers/loopback/mod.ts";
import type { MulticastGroupsService } from "../../stack/services.ts";
import type { DatagramConn, Stack } from "../../mod.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const GROUP = "239.1.2.3";

function lan(hosts = 3, snooping = false): Lan {
  return makeLan({
    hosts,
    seed: 9,
    capture: { receive: true, transmit: true },
    ...(snooping ? { switch: { snooping: true } } : {}),
  });
}

function igmp(s: Stack): MulticastGroupsService {
  return s.service("igmp.groups") as MulticastGroupsService;
}

/** What a socket received: "text from host" strings, filled in the background. */
function collect(conn: DatagramConn): string[] {
  const got: string[] = [];
  (async () => {
    for await (const [data, from] of conn) got.push(`${dec.decode(data)} from ${from.hostname}`);
  })();
  return got;
}

/** Sends `text` from `conn` to the group, runs the network 50 ms, lets receivers run. */
async function send(env: Env, conn: DatagramConn, text: string, group = GROUP): Promise<void> {
  await conn.send(enc.encode(text), { hostname: group, port: 5000 });
  env.runFor(ms(50));
  await new Promise((r) => setTimeout(r, 0));
}

function listen(s: Stack, port = 5000, reuseAddress = true): DatagramConn {
  return s.listenDatagram({ transport: "udp", port, reuseAddress });
}

Deno.test("multicast socket: a joined group's datagrams reach the member host, bytes intact", async () => {
  await withEnv(lan(), async (env) => {
    const [a, b, c] = env.hosts as [Stack, Stack, Stack];
    const rx = listen(b);
    const other = listen(c);
    const got = collect(rx), notJoined = collect(other);
    const m = await rx.joinMulticastV4(GROUP, "10.0.0.2");
    assert.equal(m.ifindex, b.interfaces.list()[0]!.index);
    env.runFor(ms(1000));
    const tx = a.listenDatagram({ transport: "udp", port: 6000 });
    await send(env, tx, "hello group");
    assert.deepEqual(got, ["hello group from 10.0.0.1"]);
    assert.deepEqual(notJoined, [], "host c joined nothing: its IP layer drops the group");
    for (const conn of [rx, other, tx]) conn.close();
  });
});

Deno.test("multicast socket: sockets sharing a group and port with reuseAddress each get a copy", async () => {
  await withEnv(lan(), async (env) => {
    const [a, b] = env.hosts as [Stack, Stack];
    const one = listen(b), two = listen(b);
    const [g1, g2] = [collect(one), collect(two)];
    await one.joinMulticastV4(GROUP, "10.0.0.2");
    await two.joinMulticastV4(GROUP, "0.0.0.0");
    assert.equal(igmp(b).list().find((r) => r.group === GROUP)?.users, 2);
    env.runFor(ms(1000));
    const tx = a.listenDatagram({ transport: "udp" });
    await send(env, tx, "x");
    assert.deepEqual([g1, g2], [["x from 10.0.0.1"], ["x from 10.0.0.1"]]);
    assert.throws(() => listen(b, 5000, false), Deno.errors.AddrInUse);
    for (const conn of [one, two, tx]) conn.close();
  });
});

Deno.test("multicast socket: a leave while another socket remains a member does not stop traffic", async () => {
  await withEnv(lan(3, true), async (env) => {
    const [a, b] = env.hosts as [Stack, Stack];
    const one = listen(b), two = listen(b);
    const g2 = collect(two);
    collect(one);
    const m1 = await one.joinMulticastV4(GROUP, "10.0.0.2");
    await two.joinMulticastV4(GROUP, "10.0.0.2");
    env.runFor(ms(3000));
    const reportsBefore = env.capture!.frames().length;
    await m1.leave();
    assert.equal(m1.active, false);
    // Past the switch's second startup query (31.25 s) and its 10 s answer
    // window, so b answers at least once whatever its random delays.
    env.runFor(ms(45_000));
    // The interface still listens: b reported no leave (no TO_IN record: only its
    // answers to the switch's queries, IS_EX), and the switch keeps the port.
    const records = env.capture!.frames().slice(reportsBefore)
      .filter((f) => f[23] === 2 && f[26] === 10 && f[29] === 2 && f[38] === 0x22)
      .map((f) => `${f[46]} ${f.subarray(50, 54).join(".")}`);
    assert.ok(records.length > 0, "b answered the querier");
    assert.deepEqual(records.filter((r) => r !== `2 ${GROUP}`), []);
    const tx = a.listenDatagram({ transport: "udp" });
    await send(env, tx, "still here");
    assert.deepEqual(g2, ["still here from 10.0.0.1"]);
    assert.deepEqual(env.sw.snooping!.groups().find((g) => g.group === GROUP)?.ports, [1]);
    await assert.rejects(m1.leave(), Deno.errors.BadResource);
    for (const conn of [one, two, tx]) conn.close();
  });
});

Deno.test("multicast socket: source filters let only allowed sources through, at the interface and per socket", async () => {
  await withEnv(lan(4), async (env) => {
    const [a, b, c, d] = env.hosts as [Stack, Stack, Stack, Stack];
    const ssm = listen(b), any = listen(b);
    const [gs, ga] = [collect(ssm), collect(any)];
    const m = await ssm.joinMulticastV4(GROUP, "10.0.0.2", { sources: ["10.0.0.3"] });
    assert.deepEqual(m.filter, { mode: "include", sources: ["10.0.0.3"] });
    env.runFor(ms(1000));
    const txs = [a, c, d].map((s) => s.listenDatagram({ transport: "udp" }));
    // Only an include {10.0.0.3} member: the interface drops the others.
    for (const [i, tx] of txs.entries()) await send(env, tx, `s${i}`);
    assert.deepEqual(gs, ["s1 from 10.0.0.3"]);
    assert.deepEqual(ga, ["s1 from 10.0.0.3"], "IP_MULTICAST_ALL: the group reaches the port");
    // An any-source member that blocks 10.0.0.4: the interface hears all but .4 ...
    const block = await any.joinMulticastV4(GROUP, "10.0.0.2");
    await block.block("10.0.0.4");
    assert.deepEqual(igmp(b).list().find((r) => r.group === GROUP)?.sources, ["10.0.0.4"]);
    gs.length = ga.length = 0;
    for (const [i, tx] of txs.entries()) await send(env, tx, `t${i}`);
    // ... and each socket only what its own filter allows.
    assert.deepEqual(gs, ["t1 from 10.0.0.3"]);
    assert.deepEqual(ga, ["t0 from 10.0.0.1", "t1 from 10.0.0.3"]);
    assert.ok(b.counters.get("udp.rx.multicast_filtered").value >= 1);
    await block.unblock("10.0.0.4");
    await m.addSource("10.0.0.4");
    gs.length = ga.length = 0;
    await send(env, txs[2]!, "u");
    assert.deepEqual([gs, ga], [["u from 10.0.0.4"], ["u from 10.0.0.4"]]);
    await assert.rejects(block.addSource("10.0.0.9"), TypeError, "any-source");
    await assert.rejects(m.block("10.0.0.9"), TypeError, "source-specific");
    await assert.rejects(m.dropSource("10.0.0.9"), Deno.errors.AddrNotAvailable);
    await m.dropSource("10.0.0.3");
    await m.dropSource("10.0.0.4");
    assert.equal(m.active, false, "dropping the last source leaves");
    for (const conn of [ssm, any, ...txs]) conn.close();
  });
});

Deno.test("multicast socket: loopback to local members is on by default and can be turned off", async () => {
  await withEnv(lan(2), async (env) => {
    const [a] = env.hosts as [Stack];
    const member = listen(a);
    const got = collect(member);
    const m = await member.joinMulticastV4(GROUP, "10.0.0.1");
    const tx = a.listenDatagram({ transport: "udp", port: 6000 });
    await send(env, tx, "to myself");
    assert.deepEqual(got, ["to myself from 10.0.0.1"]);
    assert.equal(a.counters.get("udp.tx.multicast_looped").value, 1);
    await m.setLoopback(false); // the member socket's option: its own sends are not looped
    const quiet = a.listenDatagram({ transport: "udp", port: 6001, loopback: false });
    await send(env, quiet, "not looped");
    assert.deepEqual(got, ["to myself from 10.0.0.1"]);
    for (const conn of [member, tx, quiet]) conn.close();
  });
});

Deno.test("multicast socket: setTTL sets the TTL of datagrams to groups (default 1)", async () => {
  await withEnv(lan(2), async (env) => {
    const [a, b] = env.hosts as [Stack, Stack];
    const rx = listen(b);
    const m = await rx.joinMulticastV4(GROUP, "10.0.0.2");
    env.runFor(ms(1000));
    const tx = listen(a, 6000);
    const mt = await tx.joinMulticastV4("239.9.9.9", "10.0.0.1");
    const ttls = () =>
      env.capture!.frames().filter((f) => f[23] === 17 && f[30] === 239 && f[33] === 3).map((f) =>
        f[22]
      );
    await send(env, tx, "a");
    await mt.setTTL(7);
    await send(env, tx, "b");
    assert.deepEqual(ttls(), [1, 1, 7, 7], "each datagram seen sent and received");
    await assert.rejects(m.setTTL(256), RangeError);
    await assert.rejects(m.setTTL(1.5), TypeError);
    for (const conn of [rx, tx]) conn.close();
  });
});

Deno.test("multicast socket: closing the socket drops its memberships and the interface leaves", async () => {
  await withEnv(lan(2), async (env) => {
    const [, b] = env.hosts as [Stack, Stack];
    const rx = listen(b);
    await rx.joinMulticastV4(GROUP, "10.0.0.2");
    await rx.joinMulticastV4("239.4.4.4", "10.0.0.2", { sources: ["10.0.0.1"] });
    assert.deepEqual(
      igmp(b).list().filter((r) => r.group.startsWith("239.")).map((r) => r.group),
      [GROUP, "239.4.4.4"],
    );
    rx.close();
    assert.deepEqual(igmp(b).list().filter((r) => r.group.startsWith("239.")), []);
    env.runFor(ms(3000));
  });
});

Deno.test("multicast socket: joins check their arguments before changing anything", async () => {
  await withEnv(lan(2), async (env) => {
    const [, b] = env.hosts as [Stack, Stack];
    const rx = listen(b);
    const before = igmp(b).list();
    await assert.rejects(rx.joinMulticastV4("10.0.0.9", "10.0.0.2"), RangeError);
    await assert.rejects(rx.joinMulticastV4("ff05::1", "10.0.0.2"), TypeError);
    await assert.rejects(rx.joinMulticastV4(GROUP, "10.9.9.9"), Deno.errors.AddrNotAvailable);
    await assert.rejects(rx.joinMulticastV4(GROUP, 1 as unknown as string), TypeError);
    await assert.rejects(
      rx.joinMulticastV4(GROUP, "10.0.0.2", { sources: ["239.0.0.1"] }),
      TypeError,
    );
    await assert.rejects(rx.joinMulticastV4(GROUP, "10.0.0.2", { sources: [] }), RangeError);
    await assert.rejects(rx.joinMulticastV6("ff05::1", 99), Deno.errors.NotFound);
    assert.deepEqual(igmp(b).list(), before);
    await rx.joinMulticastV4(GROUP, "10.0.0.2");
    await assert.rejects(rx.joinMulticastV4(GROUP, "10.0.0.2"), Deno.errors.AddrInUse);
    for (let i = 1; i < 20; i++) await rx.joinMulticastV4(`239.0.0.${i}`, "10.0.0.2");
    await assert.rejects(
      rx.joinMulticastV4("239.0.1.1", "10.0.0.2"),
      Error,
      "too many memberships",
    );
    rx.close();
    await assert.rejects(rx.joinMulticastV4(GROUP, "10.0.0.2"), Deno.errors.BadResource);
    env.runFor(ms(10));
  });
});

Deno.test("multicast socket: a snooping switch prunes the ports of hosts that joined nothing", async () => {
  await withEnv(lan(4, true), async (env) => {
    const [a, b, c] = env.hosts as [Stack, Stack, Stack, Stack];
    const rb = listen(b), rc = listen(c);
    const [gb, gc] = [collect(rb), collect(rc)];
    await rb.joinMulticastV4(GROUP, "10.0.0.2");
    await rc.joinMulticastV4(GROUP, "10.0.0.3");
    env.runFor(ms(3000));
    assert.deepEqual(env.sw.snooping!.groups().find((g) => g.group === GROUP)?.ports, [1, 2]);
    const carried = () => env.ports[3]!.link.stats("b->a").delivered;
    const before = carried();
    const tx = a.listenDatagram({ transport: "udp" });
    await send(env, tx, "pruned");
    assert.deepEqual([gb, gc], [["pruned from 10.0.0.1"], ["pruned from 10.0.0.1"]]);
    assert.equal(carried(), before, "host 4's cable carried no copy");
    for (const conn of [rb, rc, tx]) conn.close();
  });
});

Deno.test("multicast socket: setMulticastInterface picks the link datagrams to a group leave by", async () => {
  const net = new VirtualNetwork({ seed: 3 });
  const env = new EnvBase(net, null);
  const [l1, l2] = [net.link(), net.link()];
  const a = env.newStack("a"), b = env.newStack("b"), c = env.newStack("c");
  a.addInterface({ driver: l1.a, addresses: ["10.0.1.1/24"] });
  a.addInterface({ driver: l2.a, addresses: ["10.0.2.1/24"] });
  b.addInterface({ driver: l1.b, addresses: ["10.0.1.2/24"] });
  c.addInterface({ driver: l2.b, addresses: ["10.0.2.2/24"] });
  await withEnv(env, async () => {
    const rb = listen(b), rc = listen(c);
    const [gb, gc] = [collect(rb), collect(rc)];
    await rb.joinMulticastV4(GROUP, "10.0.1.2");
    await rc.joinMulticastV4(GROUP, "10.0.2.2");
    env.runFor(ms(1000));
    const tx = a.listenDatagram({ transport: "udp", port: 6000 });
    tx.setMulticastInterface("10.0.2.1");
    await send(env, tx, "second link");
    tx.setMulticastInterface("10.0.1.1");
    await send(env, tx, "first link");
    assert.deepEqual([gb, gc], [["first link from 10.0.1.1"], ["second link from 10.0.2.1"]]);
    assert.throws(() => tx.setMulticastInterface("10.0.3.1"), Deno.errors.AddrNotAvailable);
    assert.throws(() => tx.setMulticastInterface(99), Deno.errors.NotFound);
    for (const conn of [rb, rc, tx]) conn.close();
  });
});

Deno.test("multicast socket over IPv6: joinMulticastV6, a source-specific member hears only its source, loopback, close leaves", async () => {
  await withEnv(lan(4), async (env) => {
    const [a, b, c, d] = env.hosts as [Stack, Stack, Stack, Stack];
    env.hosts.forEach((s, i) => s.addAddress(s.interfaces.list()[0]!.index, `fd00::${i + 1}/64`));
    env.runFor(ms(3000)); // DAD
    const G6 = "ff05::1:3";
    const idx = b.interfaces.list()[0]!.index;
    const ssm = b.listenDatagram({
      transport: "udp",
      hostname: "::",
      port: 5000,
      reuseAddress: true,
    });
    const any = b.listenDatagram({
      transport: "udp",
      hostname: "::",
      port: 5000,
      reuseAddress: true,
    });
    const [gs, ga] = [collect(ssm), collect(any)];
    const m = await ssm.joinMulticastV6(G6, idx, { sources: ["fd00::3"] });
    await any.joinMulticastV6(G6, 0);
    const mld = b.service("mld.groups") as MulticastGroupsService;
    assert.deepEqual(mld.list().find((r) => r.group === G6)?.mode, "exclude");
    env.runFor(ms(1000));
    const txs = [a, c, d].map((s) =>
      s.listenDatagram({ transport: "udp", hostname: "::", port: 6000 })
    );
    for (const [i, tx] of txs.entries()) await send(env, tx, `v6-${i}`, G6);
    assert.deepEqual(gs, ["v6-1 from fd00::3"]);
    assert.deepEqual(ga, ["v6-0 from fd00::1", "v6-1 from fd00::3", "v6-2 from fd00::4"]);
    // Loopback: b's own send reaches both its members (the SSM one refuses b's source).
    const self = b.listenDatagram({ transport: "udp", hostname: "::", port: 6001 });
    await send(env, self, "from b", G6);
    assert.deepEqual(ga.at(-1), "from b from fd00::2");
    assert.equal(gs.length, 1);
    assert.equal(m.ifindex, idx);
    for (const conn of [ssm, any, self, ...txs]) conn.close();
    assert.equal(mld.list().find((r) => r.group === G6), undefined);
  });
});

Deno.test("multicast socket: setFilter replaces the whole filter (RFC 3678 setsourcefilter), checked first", async () => {
  await withEnv(lan(3), async (env) => {
    const [a, b, c] = env.hosts as [Stack, Stack, Stack];
    const rx = listen(b);
    const got = collect(rx);
    const m = await rx.joinMulticastV4(GROUP, "10.0.0.2");
    const row = () => igmp(b).list().find((r) => r.group === GROUP);
    await m.setFilter({ mode: "include", sources: ["10.0.0.3", "10.0.0.3"] });
    assert.deepEqual(m.filter, { mode: "include", sources: ["10.0.0.3"] });
    assert.deepEqual([row()?.mode, row()?.sources], ["include", ["10.0.0.3"]]);
    env.runFor(ms(1000));
    const [ta, tc] = [a, c].map((s) => s.listenDatagram({ transport: "udp" }));
    await send(env, ta!, "from a");
    await send(env, tc!, "from c");
    assert.deepEqual(got, ["from c from 10.0.0.3"]);
    await assert.rejects(m.setFilter({ mode: "both" } as never), TypeError);
    await assert.rejects(m.setFilter({ mode: "exclude", sources: ["nonsense"] }), TypeError);
    assert.deepEqual(m.filter, { mode: "include", sources: ["10.0.0.3"] }, "unchanged");
    await m.setFilter({ mode: "exclude", sources: ["10.0.0.3"] });
    got.length = 0;
    await send(env, ta!, "again from a");
    await send(env, tc!, "again from c");
    assert.deepEqual(got, ["again from a from 10.0.0.1"]);
    await m.setFilter({ mode: "include", sources: [] });
    assert.equal(m.active, false);
    assert.equal(row(), undefined);
    assert.throws(
      () => b.listenDatagram({ transport: "udp", loopback: "yes" as unknown as boolean }),
      TypeError,
    );
    for (const conn of [rx, ta!, tc!]) conn.close();
  });
});

Deno.test("multicast socket: setTTL(0) keeps datagrams on the host, looped to local members only (RFC 1112 §6.1)", async () => {
  await withEnv(lan(2), async (env) => {
    const [a, b] = env.hosts as [Stack, Stack];
    const remote = listen(b);
    const local = listen(a);
    const [gotRemote, gotLocal] = [collect(remote), collect(local)];
    await remote.joinMulticastV4(GROUP, "10.0.0.2");
    await local.joinMulticastV4(GROUP, "10.0.0.1");
    env.runFor(ms(1000));
    const tx = listen(a, 6000);
    const mt = await tx.joinMulticastV4("239.9.9.9", "10.0.0.1");
    await mt.setTTL(0);
    const sent = () => env.capture!.frames().filter((f) => f[23] === 17 && f[30] === 239).length;
    const before = sent();
    await send(env, tx, "host only");
    assert.equal(
      sent(),
      before,
      "no frame with the datagram leaves (TTL 0 is not the default TTL)",
    );
    assert.deepEqual(gotLocal, ["host only from 10.0.0.1"]);
    assert.deepEqual(gotRemote, []);
    for (const conn of [remote, local, tx]) conn.close();
  });
});

Deno.test("multicast socket over IPv6: hop limit 0 keeps datagrams on the host (RFC 3493 §5.2)", async () => {
  await withEnv(lan(2), async (env) => {
    const [a, b] = env.hosts as [Stack, Stack];
    env.hosts.forEach((s, i) => s.addAddress(s.interfaces.list()[0]!.index, `fd00::${i + 1}/64`));
    env.runFor(ms(3000)); // DAD
    const G6 = "ff05::1:3";
    const open = (s: Stack, port: number) =>
      s.listenDatagram({ transport: "udp", hostname: "::", port, reuseAddress: true });
    const remote = open(b, 5000), local = open(a, 5000);
    const [gotRemote, gotLocal] = [collect(remote), collect(local)];
    await remote.joinMulticastV6(G6, b.interfaces.list()[0]!.index);
    const ml = await local.joinMulticastV6(G6, a.interfaces.list()[0]!.index);
    env.runFor(ms(1000));
    const tx = open(a, 6000);
    const mt = await tx.joinMulticastV6("ff05::9", a.interfaces.list()[0]!.index);
    await mt.setTTL(0);
    const sent = () =>
      env.capture!.frames().filter((f) => f[12] === 0x86 && f[20] === 17 && f[38] === 0xff).length;
    const before = sent();
    await send(env, tx, "host only", G6);
    assert.equal(sent(), before, "no frame with the datagram leaves");
    assert.deepEqual(gotLocal, ["host only from fd00::1"]);
    assert.deepEqual(gotRemote, []);
    assert.equal(ml.active, true);
    for (const conn of [remote, local, tx]) conn.close();
  });
});
