/**
 * Interface identifiers: RFC 7217 stable-privacy (the default) and
 * modified EUI-64 (the option); the secret; new identifiers after DAD
 * failures (RFC 7217 §6).
 */
import assert from "node:assert/strict";
import { makeHost } from "../_harness.ts";
import { ipv6Plugin } from "../../stack/protocols/ipv6/mod.ts";
import { icmpv6Plugin } from "../../stack/protocols/icmpv6/mod.ts";
import { SLAAC_OPTIONS, slaacPlugin } from "../../stack/protocols/slaac/mod.ts";
import { parseSlaacConfig } from "../../stack/protocols/slaac/config.ts";
import { InterfaceIds, secretHash } from "../../stack/protocols/slaac/identifiers.ts";
import { IpAddress } from "../../stack/wire/ip_address.ts";
import { dadStandIn, resolverStandIn } from "./_standins.ts";
import { ndpFrame, pio, raMessage } from "./_ra.ts";

const SECOND = 1_000_000;
const SECRET = "000102030405060708090a0b0c0d0e0f";
const MAC = new Uint8Array([2, 0, 0, 0, 0, 1]);
const k = (s: string) => IpAddress.parse(s)!.key;
const text = (key: unknown) => IpAddress.fromKey(key as string).toString();

function host(
  slaac: Record<string, number | string | boolean>,
  options: { seed?: number; isDuplicate?: (a: string) => boolean } = {},
) {
  const h = makeHost({
    seed: options.seed ?? 1,
    addresses: [],
    extraPlugins: [
      ipv6Plugin,
      icmpv6Plugin,
      resolverStandIn().plugin,
      dadStandIn(options.isDuplicate ? { isDuplicate: options.isDuplicate } : {}),
      slaacPlugin,
    ],
    plugins: { slaac: { routerSolicitations: 0, ...slaac } },
  });
  const lines = () => h.iface.ipv6.map((a) => `${IpAddress.v6(a.address)} ${a.state} ${a.origin}`);
  return { h, lines };
}

Deno.test("slaac identifiers: RFC 7217 IIDs are stable per (prefix, interface, secret) and differ across prefixes, interfaces, secrets and DAD counters", () => {
  const ids = new InterfaceIds("stable-privacy", secretHash([1, 2, 3, 4]));
  const same = new InterfaceIds("stable-privacy", secretHash([1, 2, 3, 4]));
  const other = new InterfaceIds("stable-privacy", secretHash([1, 2, 3, 5]));
  const p1 = k("2001:db8:1::"), p2 = k("2001:db8:2::");
  const a = ids.address(p1, "eth0", MAC, 0)!;
  assert.equal(a, same.address(p1, "eth0", MAC, 0));
  assert.equal(
    a,
    ids.address(p1, "eth0", new Uint8Array([2, 0, 0, 0, 0, 9]), 0),
    "the MAC plays no part",
  );
  const iid = (x: unknown) => (x as string).substring(4);
  assert.notEqual(iid(a), iid(ids.address(p2, "eth0", MAC, 0)!), "another prefix, another IID");
  assert.notEqual(a, ids.address(p1, "eth1", MAC, 0));
  assert.notEqual(a, other.address(p1, "eth0", MAC, 0));
  assert.notEqual(a, ids.address(p1, "eth0", MAC, 1));
  assert.ok(text(a).startsWith("2001:db8:1:0:"));
});

Deno.test("slaac eui64 option: the link-local and SLAAC addresses carry the MAC-derived identifier", () => {
  const { h, lines } = host({ addressGeneration: "eui64" });
  h.runFor(2 * SECOND);
  h.inject(ndpFrame({}, raMessage({ options: [pio("2001:db8:1::/64", 600, 300)] })));
  h.runFor(2 * SECOND);
  // 02:00:00:00:00:01 → 0000:00ff:fe00:0001 (universal/local bit flipped).
  assert.deepEqual(lines().sort(), [
    "2001:db8:1::ff:fe00:1 preferred autoconf",
    "fe80::ff:fe00:1 preferred link-local",
  ]);
  h.finish();
});

Deno.test("slaac secret option: the same secret gives the same addresses whatever the seed; without it the seed decides", () => {
  const ll = (slaac: Record<string, string>, seed: number) => {
    const { h, lines } = host(slaac, { seed });
    const l = lines()[0]!;
    h.finish();
    return l;
  };
  assert.equal(ll({ secret: SECRET }, 1), ll({ secret: SECRET }, 2));
  assert.equal(ll({}, 3), ll({}, 3));
  assert.notEqual(ll({}, 3), ll({}, 4));
  const expected = new InterfaceIds(
    "stable-privacy",
    secretHash([0x00010203, 0x04050607, 0x08090a0b, 0x0c0d0e0f]),
  )
    .address(k("fe80::"), "eth0", MAC, 0);
  assert.equal(ll({ secret: SECRET }, 5), `${text(expected)} tentative link-local`);
});

Deno.test("slaac DAD: a duplicate stable-privacy address is replaced by the next DAD_Counter's, up to idgenRetries, then left duplicate", () => {
  const ids = new InterfaceIds(
    "stable-privacy",
    secretHash([0x00010203, 0x04050607, 0x08090a0b, 0x0c0d0e0f]),
  );
  const attempt = (n: number) => text(ids.address(k("fe80::"), "eth0", MAC, n));
  // Attempts 0 and 1 collide; attempt 2 is unique.
  const taken = new Set([attempt(0), attempt(1)]);
  const { h, lines } = host({ secret: SECRET }, { isDuplicate: (a) => taken.has(a) });
  h.runFor(5 * SECOND);
  assert.deepEqual(lines(), [`${attempt(2)} preferred link-local`]);
  assert.equal(h.counter("slaac.addr.dad_failed"), 2);
  assert.equal(h.counter("slaac.addr.dad_retries"), 2);
  h.finish();

  const all = host({ secret: SECRET, idgenRetries: 3 }, { isDuplicate: () => true });
  all.h.runFor(10 * SECOND);
  assert.deepEqual(all.lines(), [`${attempt(3)} duplicate link-local`]);
  assert.equal(all.h.counter("slaac.addr.dad_failed"), 4);
  assert.equal(all.h.counter("slaac.addr.dad_retries"), 3);
  all.h.finish();
});

Deno.test("slaac DAD: a duplicate SLAAC address is retried too; a duplicate EUI-64 address is not", () => {
  const { h, lines } = host({ secret: SECRET }, { isDuplicate: (a) => a.startsWith("2001:") });
  h.runFor(2 * SECOND);
  h.inject(ndpFrame({}, raMessage({ options: [pio("2001:db8:1::/64", 600, 300)] })));
  h.runFor(10 * SECOND);
  assert.equal(lines().filter((l) => l.endsWith("duplicate autoconf")).length, 1);
  assert.equal(h.counter("slaac.addr.dad_retries"), 3);
  h.finish();

  const e = host({ addressGeneration: "eui64" }, { isDuplicate: () => true });
  e.h.runFor(5 * SECOND);
  assert.deepEqual(e.lines(), ["fe80::ff:fe00:1 duplicate link-local"]);
  assert.equal(e.h.counter("slaac.addr.dad_retries"), 0);
  e.h.finish();
});

Deno.test("slaac options are checked at set-up: wrong types throw TypeError, out-of-range values RangeError", () => {
  const defaults = Object.fromEntries(
    Object.entries(SLAAC_OPTIONS).map(([n, s]) => [n, s.default]),
  );
  const bad = (o: Record<string, unknown>) => () => parseSlaacConfig({ ...defaults, ...o });
  assert.throws(bad({ addressGeneration: "random" }), TypeError);
  assert.throws(bad({ idgenRetries: 1.5 }), TypeError);
  assert.throws(bad({ idgenRetries: NaN }), TypeError);
  assert.throws(bad({ maxPrefixes: 0 }), RangeError);
  assert.throws(bad({ secret: "abc" }), RangeError);
  assert.throws(bad({ advertise: "2001:db8::/64@" }), TypeError);
  assert.throws(bad({ advertise: "ff02::/16" }), RangeError);
  assert.throws(bad({ minRtrAdvInterval: 500 * SECOND }), RangeError);
  assert.throws(bad({ preferredLifetime: 100, validLifetime: 50 }), RangeError);
  assert.throws(bad({ advertiseMtu: 1000 }), RangeError);
  assert.equal(
    parseSlaacConfig({ ...defaults, advertise: " 2001:db8:1::/64@eth1 , 2001:db8:2::5/40" })
      .advertise.map((p) => `${text(p.prefix)}/${p.length}@${p.ifname}`).join(" "),
    "2001:db8:1::/64@eth1 2001:db8::/40@",
  );
});
