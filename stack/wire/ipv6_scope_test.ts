import assert from "node:assert/strict";
import { IpAddress } from "./ip_address.ts";
import { ipv6MulticastMac, ipv6SolicitedNodeMulticast } from "./ipv6_address.ts";
import {
  commonPrefixLength,
  inIpv6Prefix,
  ipv6PolicyLabel,
  ipv6PolicyPrecedence,
  ipv6Scope,
  isSolicitedNodeKey,
  maskIpv6,
  selectIpv6Source,
  solicitedNodeKey,
  type SourceCandidate,
  writeIpv6MulticastMac,
} from "./ipv6_scope.ts";

const k = (s: string) => IpAddress.parse(s)!.key;

Deno.test("ipv6Scope(): unicast and multicast scopes as RFC 6724 §3.1 and §3.2 map them", () => {
  const cases: [string, number][] = [
    ["fe80::1", 2],
    ["febf::1", 2],
    ["::1", 2],
    ["ff01::1", 1],
    ["ff02::1", 2],
    ["ff05::1:3", 5],
    ["ff0e::1", 14],
    ["fec0::1", 5],
    ["fd00::1", 14],
    ["2001:db8::1", 14],
    ["::ffff:127.0.0.1", 2],
    ["::ffff:169.254.1.1", 2],
    ["::ffff:10.0.0.1", 14],
  ];
  for (const [a, scope] of cases) assert.equal(ipv6Scope(k(a)), scope, a);
});

Deno.test("solicitedNodeKey() agrees with the byte form and RFC 4291 §2.7.1", () => {
  for (
    const a of ["2001:db8:1:2::1000", "fe80::b299:28ff:fec8:d66c", "::1", "fd12:3456::abcd:ef01"]
  ) {
    const got = solicitedNodeKey(k(a));
    assert.equal(got, IpAddress.v6(ipv6SolicitedNodeMulticast(IpAddress.parse(a)!.bytes())).key);
    assert.ok(isSolicitedNodeKey(got));
  }
  assert.ok(!isSolicitedNodeKey(k("ff02::1:fe00:1")));
  assert.ok(!isSolicitedNodeKey(k("ff05::1:ff00:1")));
});

Deno.test("writeIpv6MulticastMac() is 33:33 and the group's last 32 bits (RFC 2464 §7)", () => {
  const out = new Uint8Array(8).fill(0xee);
  for (const g of ["ff02::1", "ff02::16", "ff02::1:ffc8:d66c", "ff05::1:3"]) {
    writeIpv6MulticastMac(k(g), out, 1);
    assert.deepEqual(out.subarray(1, 7), ipv6MulticastMac(IpAddress.parse(g)!.bytes()), g);
  }
  assert.equal(out[0], 0xee);
  assert.equal(out[7], 0xee);
});

Deno.test("commonPrefixLength(), inIpv6Prefix() and maskIpv6() at the edges", () => {
  assert.equal(commonPrefixLength(k("::"), k("8000::")), 0);
  assert.equal(commonPrefixLength(k("::"), k("::1")), 127);
  assert.equal(commonPrefixLength(k("2001:db8::"), k("2001:db8:8000::")), 32);
  assert.ok(inIpv6Prefix(k("ff02::1"), k("::"), 0));
  assert.ok(inIpv6Prefix(k("fe80::1"), k("fe80::"), 10));
  assert.ok(!inIpv6Prefix(k("fec0::1"), k("fe80::"), 10));
  assert.equal(maskIpv6(k("2001:db8:ffff::1"), 0), k("::"));
  assert.equal(maskIpv6(k("2001:db8:ffff::1"), 128), k("2001:db8:ffff::1"));
  assert.equal(maskIpv6(k("2001:db8:ffff::1"), 40), k("2001:db8:ff00::"));
});

Deno.test("the default policy table of RFC 6724 §2.1", () => {
  const rows: [string, number, number][] = [
    ["::1", 50, 0],
    ["2001:db8::1", 40, 1],
    ["::ffff:10.0.0.1", 35, 4],
    ["2002:c633:6401::1", 30, 2],
    ["2001:0:1::1", 5, 5],
    ["fd00::1", 3, 13],
    ["::10.0.0.1", 1, 3],
    ["fec0::1", 1, 11],
    ["3ffe::1", 1, 12],
  ];
  for (const [a, precedence, label] of rows) {
    assert.equal(ipv6PolicyPrecedence(k(a)), precedence, a);
    assert.equal(ipv6PolicyLabel(k(a)), label, a);
  }
});

function pick(dst: string, ...candidates: (string | SourceCandidate)[]): string | undefined {
  const list = candidates.map((c) => typeof c === "string" ? { address: k(c), ifindex: 1 } : c);
  const got = selectIpv6Source(k(dst), list, 1);
  return got === null ? undefined : IpAddress.fromKey(got.address).toString();
}

Deno.test("RFC 6724 §10.1: prefer appropriate scope (rule 2), for a global and a site multicast destination", () => {
  assert.equal(pick("2001:db8:1::1", "fe80::1", "2001:db8:3::1"), "2001:db8:3::1");
  assert.equal(pick("ff05::1", "fe80::1", "2001:db8:3::1"), "2001:db8:3::1");
});

Deno.test("RFC 6724 §10.1: prefer same address (rule 1) even when deprecated", () => {
  assert.equal(
    pick(
      "2001:db8:1::1",
      { address: k("2001:db8:1::1"), ifindex: 1, deprecated: true },
      "2001:db8:2::1",
    ),
    "2001:db8:1::1",
  );
});

Deno.test("RFC 6724 §10.1: prefer appropriate scope over avoiding deprecated (rules 2 before 3)", () => {
  assert.equal(
    pick("fe80::1", "2001:db8:2::1", { address: k("fe80::2"), ifindex: 1, deprecated: true }),
    "fe80::2",
  );
});

Deno.test("RFC 6724 rule 3: avoid deprecated addresses", () => {
  assert.equal(
    pick(
      "2001:db8:9::1",
      { address: k("2001:db8:1::1"), ifindex: 1, deprecated: true },
      "2001:db8:2::1",
    ),
    "2001:db8:2::1",
  );
});

Deno.test("RFC 6724 rule 5: prefer the outgoing interface", () => {
  assert.equal(
    pick("2001:db8:9::1", { address: k("2001:db8:9::5"), ifindex: 2 }, {
      address: k("2001:db8:1::1"),
      ifindex: 1,
    }),
    "2001:db8:1::1",
  );
});

Deno.test("RFC 6724 §10.1: prefer matching label (rule 6)", () => {
  assert.equal(
    pick("2002:c633:6401::1", "2001:db8:1::2", "2002:c633:6401::d5e3:7953:13eb:22e8"),
    "2002:c633:6401:0:d5e3:7953:13eb:22e8",
  );
});

Deno.test("RFC 6724 §10.1: longest matching prefix (rule 8), counted up to the prefix length", () => {
  assert.equal(pick("2001:db8:1::1", "2001:db8:3::2", "2001:db8:1::2"), "2001:db8:1::2");
  // Both share the /64 with the destination: the interface identifier does not count; the first stays.
  assert.equal(
    pick("2001:db8:1::1", "2001:db8:1::8000:0:0:0", "2001:db8:1::2"),
    "2001:db8:1:0:8000::",
  );
});

Deno.test("selectIpv6Source() without candidates is null", () => {
  assert.equal(selectIpv6Source(k("2001:db8::1"), [], 1), null);
});
