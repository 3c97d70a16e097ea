/**
 * `Stack.ping` to a group: a reply matches the echo request by identifier
 * and sequence whoever sends it (as Linux's ping), so pinging ff02::1 or
 * 224.0.0.1 resolves with the first member's reply, from its own unicast
 * address; the other members' replies find no ping waiting and are counted
 * as unmatched (what ping(8) prints as DUP!). A unicast ping is unchanged.
 */
import assert from "node:assert/strict";
import { icmpEcho, type Lan, makeLan, ms } from "../_harness.ts";
import type { Ipv4Service } from "../../stack/services.ts";
import type { Stack } from "../../mod.ts";
import { formatIpKey, ipKeyAt } from "../../stack/wire/ip_address.ts";

const count = (s: Stack, name: string) => s.counters.get(name).value;

/** Three hosts whose ICMP answers echoes to groups, past IPv6's duplicate address detection. */
function groupLan(): Lan {
  const lan = makeLan({ hosts: 3, seed: 7, plugins: { icmp: { echoIgnoreBroadcasts: false } } });
  lan.runFor(ms(3000));
  return lan;
}

/** The link-local address of `s`'s eth0. */
function linkLocal(s: Stack): string {
  const a = s.interfaces.byName("eth0")!.ipv6.find((x) => x.address[0] === 0xfe)!;
  return formatIpKey(ipKeyAt(a.address, 0, 6));
}

Deno.test("ping ff02::1: the first other host's reply resolves it, from its link-local address; the second is a DUP", async () => {
  const lan = groupLan();
  const [h1, h2, h3] = lan.hosts as [Stack, Stack, Stack];
  const reply = await lan.run(() => h1.ping("ff02::1%eth0", { timeout: 100 }));
  // Before: timed out, both replies counted as unmatched.
  assert.ok([linkLocal(h2), linkLocal(h3)].includes(reply.from), reply.from);
  assert.equal(reply.sequence, 1);
  assert.equal(reply.bytes, 56);
  lan.runFor(ms(200)); // past the timeout: the ping is gone, not waiting for more
  assert.equal(count(h2, "icmpv6.rx.echo_requests"), 1);
  assert.equal(count(h3, "icmpv6.rx.echo_requests"), 1);
  assert.equal(count(h1, "icmpv6.rx.unmatched_reply"), 1); // the other member's
  lan.finish();
});

Deno.test("ping 224.0.0.1: members that answer group echoes reply from their own addresses; the first resolves it", async () => {
  const lan = groupLan();
  const [h1, h2, h3] = lan.hosts as [Stack, Stack, Stack];
  const reply = await lan.run(() => h1.ping("224.0.0.1", { timeout: 100 }));
  assert.ok(["10.0.0.2", "10.0.0.3"].includes(reply.from), reply.from);
  lan.runFor(ms(200));
  assert.equal(count(h2, "icmp.tx.echo_replies") + count(h3, "icmp.tx.echo_replies"), 2);
  assert.equal(count(h1, "icmp.rx.unmatched_reply"), 1);
  lan.finish();
});

Deno.test("ping 224.0.0.1: hosts that ignore group echoes (the default, as Linux) leave it to time out", async () => {
  const lan = makeLan({ hosts: 3, seed: 7 });
  const h1 = lan.hosts[0]!;
  lan.runFor(ms(3000));
  await assert.rejects(lan.run(() => h1.ping("224.0.0.1", { timeout: 100 })), Deno.errors.TimedOut);
  assert.equal(count(lan.hosts[1]!, "icmp.rx.broadcast_echo_ignored"), 1);
  lan.finish();
});

Deno.test("ping a unicast address: unchanged, from it", async () => {
  const lan = groupLan();
  const [h1, h2] = lan.hosts as [Stack, Stack, Stack];
  const reply = await lan.run(() => h1.ping("10.0.0.2", { sequence: 9 }));
  assert.deepEqual({ ...reply, rtt: 0 }, {
    sequence: 9,
    rtt: 0,
    from: "10.0.0.2",
    ttl: 64,
    bytes: 56,
  });
  const v6 = await lan.run(() => h1.ping(`${linkLocal(h2)}%eth0`, { sequence: 10 }));
  assert.equal(v6.from, linkLocal(h2));
  assert.equal(count(h1, "icmp.rx.unmatched_reply"), 0);
  assert.equal(count(h1, "icmpv6.rx.unmatched_reply"), 0);
  lan.finish();
});

Deno.test("ping a broadcast address: refused as a datagram socket refuses it unless broadcast: true (ping -b); then the first reply", async () => {
  const lan = groupLan();
  const h1 = lan.hosts[0]!;
  const sent = () => count(h1, "icmp.tx.echo_requests");
  await assert.rejects(lan.run(() => h1.ping("10.0.0.255")), Deno.errors.PermissionDenied);
  await assert.rejects(lan.run(() => h1.ping("255.255.255.255")), Deno.errors.PermissionDenied);
  // Checked before anything is sent, as every option.
  await assert.rejects(
    lan.run(() => h1.ping("10.0.0.255", { broadcast: "yes" as unknown as boolean })),
    TypeError,
  );
  await assert.rejects(
    lan.run(() => h1.ping("10.0.0.2", { dontFragment: 1 as unknown as boolean })),
    TypeError,
  );
  assert.equal(sent(), 0);
  for (const host of ["10.0.0.255", "255.255.255.255"]) {
    const reply = await lan.run(() => h1.ping(host, { broadcast: true, timeout: 100 }));
    assert.ok(["10.0.0.2", "10.0.0.3"].includes(reply.from), reply.from);
  }
  lan.runFor(ms(200));
  assert.equal(sent(), 2);
  assert.equal(count(h1, "icmp.rx.unmatched_reply"), 2);
  lan.finish();
});

Deno.test("ping a unicast address: a reply from another address is taken, as Linux's ping (DIFFERENT ADDRESS!); `from` names it", async () => {
  const lan = groupLan();
  const [h1, , h3] = lan.hosts as [Stack, Stack, Stack];
  // 10.0.0.9 is nobody's: h3 answers for it, the identifier and sequence ping used.
  const ping = lan.run(() =>
    h1.ping("10.0.0.9", { identifier: 0x4242, sequence: 7, timeout: 100 })
  );
  const reply = icmpEcho({ type: 0, identifier: 0x4242, sequence: 7 });
  const ipv4 = h3.service<Ipv4Service>("ipv4.send")!;
  assert.equal(
    ipv4.send(h3.pool.copyOf(reply), 0, 0x0a000001, 1, 0, 0),
    undefined,
  );
  assert.equal((await ping).from, "10.0.0.3");
  // Another sequence (or identifier) is not this ping's.
  const late = lan.run(() =>
    h1.ping("10.0.0.9", { identifier: 0x4242, sequence: 8, timeout: 100 })
  );
  assert.equal(
    ipv4.send(h3.pool.copyOf(reply), 0, 0x0a000001, 1, 0, 0),
    undefined,
  );
  await assert.rejects(late, Deno.errors.TimedOut);
  assert.equal(count(h1, "icmp.rx.unmatched_reply"), 1);
  // Timed out: nothing waits for its reply any more.
  const tooLate = icmpEcho({ type: 0, identifier: 0x4242, sequence: 8 });
  assert.equal(ipv4.send(h3.pool.copyOf(tooLate), 0, 0x0a000001, 1, 0, 0), undefined);
  lan.runFor(ms(1));
  assert.equal(count(h1, "icmp.rx.unmatched_reply"), 2);
  lan.finish();
});
