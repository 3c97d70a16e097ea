/**
 * RFC 4862 §5.4, §5.5.1, §5.4.5: the link-local address passes DAD before
 * anything else happens on a host: no Router Solicitation and no SLAAC
 * address (not even tentative) before it, and no autoconfiguration at all
 * when it is a duplicate.
 */
import assert from "node:assert/strict";
import { makeHost } from "../_harness.ts";
import { ipv6Plugin } from "../../stack/protocols/ipv6/mod.ts";
import { icmpv6Plugin } from "../../stack/protocols/icmpv6/mod.ts";
import { slaacPlugin } from "../../stack/protocols/slaac/mod.ts";
import { dadStandIn, resolverStandIn } from "./_standins.ts";
import { ndpFrame, pio, raMessage } from "./_ra.ts";
import { addressLines, makeSlaacLan } from "./_lan.ts";

const SECOND = 1_000_000;
const STEP = 10_000;

Deno.test("slaac lan: no RS and no SLAAC address (not even tentative) before the link-local address passed DAD", () => {
  let solicited = 0;
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    // The router advertises every 3..4 s, so RAs also reach a host whose DAD is still running.
    const lan = makeSlaacLan({
      seed,
      router: { minRtrAdvInterval: 3 * SECOND, maxRtrAdvInterval: 4 * SECOND },
    });
    const hostIf = lan.ifaces[1]!;
    const host = lan.hostStacks[0]!;
    let firstRs = -1, firstAutoconf = -1, llReady = -1;
    for (let t = 0; t < 10 * SECOND; t += STEP) {
      lan.runFor(STEP);
      const lines = addressLines(hostIf);
      if (llReady < 0 && lines.some((l) => / preferred link-local$/.test(l))) llReady = t;
      if (firstRs < 0 && host.counters.value("slaac.tx.router_solicitations") > 0) firstRs = t;
      if (firstAutoconf < 0 && lines.some((l) => l.endsWith(" autoconf"))) firstAutoconf = t;
    }
    const at =
      `seed ${seed}: link-local ready at ${llReady}, RS at ${firstRs}, SLAAC at ${firstAutoconf}`;
    // An unsolicited RA heard first makes the RS unnecessary (RFC 4861 §6.3.7).
    assert.ok(llReady >= 0 && firstAutoconf >= llReady, at);
    assert.ok(firstRs < 0 || firstRs >= llReady, at);
    if (firstRs >= 0) solicited++;
    assert.match(addressLines(hostIf)[0]!, / preferred autoconf$/, at);
    assert.equal(host.counters.value("slaac.tx.no_link_local"), 0);
    lan.finish();
  }
  assert.ok(solicited >= 2, `${solicited} seeds solicited`);
});

Deno.test("slaac: an RA heard during link-local DAD is held: its address goes to DAD only after the link-local passed", () => {
  const h = makeHost({
    addresses: [],
    extraPlugins: [
      ipv6Plugin,
      icmpv6Plugin,
      resolverStandIn().plugin,
      dadStandIn({ delay: 2 * SECOND }),
      slaacPlugin,
    ],
  });
  h.runFor(SECOND / 2);
  h.inject(ndpFrame({}, raMessage({ options: [pio("2001:db8:7::/64", 600, 300)] })));
  const states = () => h.iface.ipv6.map((a) => `${a.state} ${a.origin}`).sort();
  assert.deepEqual(states(), ["tentative link-local"]);
  assert.equal(h.counter("slaac.addr.held"), 1);
  assert.equal(h.history.filter((f) => f.bytes[54] === 133).length, 0, "no RS yet");
  h.runFor(2 * SECOND); // the link-local address passed; the held one is tentative now
  assert.deepEqual(states(), ["preferred link-local", "tentative autoconf"]);
  h.runFor(3 * SECOND);
  assert.deepEqual(states(), ["preferred autoconf", "preferred link-local"]);
  const rss = h.history.filter((f) => f.bytes[54] === 133);
  assert.ok(rss.length >= 1);
  for (const f of rss) assert.equal(f.bytes[22], 0xfe, "every RS from the link-local address");
  h.finish();
});

Deno.test("slaac: a duplicate link-local address stops autoconfiguration: no RS, no SLAAC address (RFC 4862 §5.4.5)", () => {
  const h = makeHost({
    addresses: [],
    extraPlugins: [
      ipv6Plugin,
      icmpv6Plugin,
      resolverStandIn().plugin,
      dadStandIn({ isDuplicate: (a) => a.startsWith("fe80:") }),
      slaacPlugin,
    ],
    plugins: { slaac: { addressGeneration: "eui64" } },
  });
  h.runFor(SECOND / 2);
  h.inject(ndpFrame({}, raMessage({ options: [pio("2001:db8:7::/64", 600, 300)] })));
  h.runFor(5 * SECOND);
  h.inject(ndpFrame({}, raMessage({ options: [pio("2001:db8:8::/64", 600, 300)] })));
  h.runFor(20 * SECOND);
  assert.deepEqual(h.iface.ipv6.map((a) => `${a.state} ${a.origin}`), ["duplicate link-local"]);
  assert.equal(h.history.filter((f) => f.bytes[54] === 133).length, 0, "no RS");
  assert.equal(
    h.counter("slaac.addr.autoconf_stopped"),
    2,
    "the held address and the later prefix",
  );
  h.finish();
});
