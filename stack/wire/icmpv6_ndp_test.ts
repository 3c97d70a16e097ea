import assert from "node:assert/strict";
import fc from "npm:fast-check@3.23.2";
import { IpAddress, type IpKey } from "./ip_address.ts";
import { setIcmpv6Checksum, verifyIcmpv6Checksum } from "./icmpv6.ts";
import {
  isPrefixInformation,
  mtuOptionValue,
  NDP_PROBLEMS,
  ndpFindNextOption,
  ndpFindOption,
  ndpLinkLayerAddress,
  NdpOptionType,
  ndpTargetKey,
  NeighborAdvertisementFlags,
  neighborAdvertisementFlags,
  prefixInformationFlags,
  prefixInformationLength,
  prefixInformationPreferredLifetime,
  prefixInformationPrefixKey,
  prefixInformationValidLifetime,
  redirectDestinationKey,
  routerAdvertisementFlags,
  routerAdvertisementHopLimit,
  routerAdvertisementLifetime,
  routerAdvertisementReachableTime,
  routerAdvertisementRetransTimer,
  validateNdp,
} from "./icmpv6_ndp.ts";
import {
  writeMtuOption,
  writeNeighborAdvertisement,
  writeNeighborSolicitation,
  writePrefixInformationOption,
  writeRouterAdvertisement,
  writeRouterSolicitation,
} from "./icmpv6_ndp_write.ts";
import { writeIpv6Header } from "./ipv6.ts";
import { NA_PACKET, NS_PACKET, RA_PACKET } from "./ipv6_test_fixtures.ts";

const k = (s: string): IpKey => IpAddress.parse(s)!.key;
const mac = (s: string) => new Uint8Array(s.split(":").map((x) => parseInt(x, 16)));

/** An IPv6 packet from `src` to `dst` with hop limit `hop` around the ICMPv6 message `msg`. */
function ndp(src: string, dst: string, msg: number[] | Uint8Array, hop = 255): Uint8Array {
  const p = new Uint8Array(40 + msg.length);
  writeIpv6Header(p, 0, msg.length, 58, hop, k(src), k(dst));
  p.set(msg, 40);
  setIcmpv6Checksum(p, 0, 40, p.length);
  return p;
}

function check(p: Uint8Array) {
  return validateNdp(p, 0, 40, p.length);
}

/** An NS message for `target`, options appended. */
function ns(target: string, options: number[] = []): number[] {
  return [135, 0, 0, 0, 0, 0, 0, 0, ...IpAddress.parse(target)!.bytes(), ...options];
}

function na(flags: number, target: string, options: number[] = []): number[] {
  return [136, 0, 0, 0, flags, 0, 0, 0, ...IpAddress.parse(target)!.bytes(), ...options];
}

Deno.test("ndp deconstruct: the capture's Neighbor Solicitation (RFC 4861 §4.3)", () => {
  const p = NS_PACKET;
  assert.equal(check(p), null);
  assert.equal(ndpTargetKey(p, 40), k("2001:db8:1:2::1000"));
  const slla = ndpFindOption(p, 64, p.length, NdpOptionType.SOURCE_LINK_LAYER_ADDRESS);
  assert.equal(slla, 64);
  assert.deepEqual(ndpLinkLayerAddress(p, slla), mac("00:0c:29:2f:80:31"));
  assert.equal(ndpFindOption(p, 64, p.length, NdpOptionType.TARGET_LINK_LAYER_ADDRESS), -1);
});

Deno.test("ndp deconstruct: the capture's Neighbor Advertisement (RFC 4861 §4.4)", () => {
  const p = NA_PACKET;
  assert.equal(check(p), null);
  assert.equal(
    neighborAdvertisementFlags(p, 40),
    NeighborAdvertisementFlags.SOLICITED | NeighborAdvertisementFlags.OVERRIDE,
  );
  assert.equal(ndpTargetKey(p, 40), k("2001:db8:1:2::1000"));
  const tlla = ndpFindOption(p, 64, p.length, NdpOptionType.TARGET_LINK_LAYER_ADDRESS);
  assert.deepEqual(ndpLinkLayerAddress(p, tlla), mac("00:0c:29:1f:a7:55"));
});

Deno.test("ndp deconstruct: the capture's Router Advertisement with prefix, MTU, SLLA and options we skip (RFC 4861 §4.2, §4.6)", () => {
  const p = RA_PACKET;
  assert.equal(check(p), null);
  assert.equal(routerAdvertisementHopLimit(p, 40), 64);
  assert.equal(routerAdvertisementFlags(p, 40), 0x20); // H (RFC 6275), neither M nor O
  assert.equal(routerAdvertisementLifetime(p, 40), 15);
  assert.equal(routerAdvertisementReachableTime(p, 40), 0);
  assert.equal(routerAdvertisementRetransTimer(p, 40), 0);
  const pi = ndpFindOption(p, 56, p.length, NdpOptionType.PREFIX_INFORMATION);
  assert.equal(pi, 56);
  assert.ok(isPrefixInformation(p, pi));
  assert.equal(prefixInformationLength(p, pi), 72);
  assert.equal(prefixInformationFlags(p, pi), 0xc0);
  assert.equal(prefixInformationValidLifetime(p, pi), 2592000);
  assert.equal(prefixInformationPreferredLifetime(p, pi), 604800);
  assert.equal(prefixInformationPrefixKey(p, pi), k("2222:3333:4444:5555:6600::"));
  assert.equal(ndpFindNextOption(p, pi, p.length, NdpOptionType.PREFIX_INFORMATION), -1);
  assert.equal(mtuOptionValue(p, ndpFindOption(p, 56, p.length, NdpOptionType.MTU)), 100);
  const slla = ndpFindOption(p, 56, p.length, NdpOptionType.SOURCE_LINK_LAYER_ADDRESS);
  assert.deepEqual(ndpLinkLayerAddress(p, slla), mac("b0:99:28:c8:d6:6c"));
});

Deno.test("ndp construct: NS and NA writers give the capture's bytes", () => {
  const s = new Uint8Array(72);
  writeIpv6Header(s, 0, 32, 58, 255, k("2001:db8:1:2::1003"), k("ff02::1:ff00:1000"));
  assert.equal(
    writeNeighborSolicitation(s, 40, k("2001:db8:1:2::1000"), mac("00:0c:29:2f:80:31")),
    32,
  );
  setIcmpv6Checksum(s, 0, 40, 72);
  assert.deepEqual(s, NS_PACKET);
  const a = new Uint8Array(72);
  writeIpv6Header(a, 0, 32, 58, 255, k("2001:db8:1:2::1000"), k("2001:db8:1:2::1003"));
  writeNeighborAdvertisement(a, 40, 0x60, k("2001:db8:1:2::1000"), mac("00:0c:29:1f:a7:55"));
  setIcmpv6Checksum(a, 0, 40, 72);
  assert.deepEqual(a, NA_PACKET);
});

Deno.test("ndp construct: an RA with prefix and MTU options parses back", () => {
  const msg = new Uint8Array(16 + 32 + 8);
  let n = writeRouterAdvertisement(msg, 0, {
    hopLimit: 64,
    flags: 0,
    routerLifetime: 1800,
    reachableTime: 30000,
    retransTimer: 1000,
  });
  n += writePrefixInformationOption(msg, n, {
    prefix: k("2001:db8:1:2:ffff::1"), // host bits are cleared
    prefixLength: 64,
    flags: 0xc0,
    validLifetime: 86400,
    preferredLifetime: 14400,
  });
  n += writeMtuOption(msg, n, 1500);
  assert.equal(n, msg.length);
  const p = ndp("fe80::1", "ff02::1", msg);
  assert.equal(check(p), null);
  assert.ok(verifyIcmpv6Checksum(p, 0, 40, p.length));
  assert.equal(routerAdvertisementReachableTime(p, 40), 30000);
  assert.equal(routerAdvertisementRetransTimer(p, 40), 1000);
  const pi = ndpFindOption(p, 56, p.length, NdpOptionType.PREFIX_INFORMATION);
  assert.equal(prefixInformationPrefixKey(p, pi), k("2001:db8:1:2::"));
  assert.equal(mtuOptionValue(p, ndpFindOption(p, 56, p.length, NdpOptionType.MTU)), 1500);
});

Deno.test("ndp validation: a hop limit below 255 means it was forwarded: every NDP type is refused (§6.1, §7.1, §8.1)", () => {
  assert.equal(check(ndp("fe80::1", "ff02::2", [133, 0, 0, 0, 0, 0, 0, 0], 254)), "bad_hop_limit");
  assert.equal(
    check(ndp("fe80::1", "ff02::1", new Array(16).fill(0).map((_, i) => i === 0 ? 134 : 0), 64)),
    "bad_hop_limit",
  );
  assert.equal(check(ndp("fe80::1", "fe80::2", ns("fe80::2"), 1)), "bad_hop_limit");
  assert.equal(check(ndp("fe80::1", "fe80::2", na(0, "fe80::1"), 254)), "bad_hop_limit");
});

Deno.test("ndp validation: nonzero code is refused", () => {
  const m = ns("fe80::2");
  m[1] = 1;
  assert.equal(check(ndp("fe80::1", "fe80::2", m)), "bad_code");
});

Deno.test("ndp validation: an ICMP length under 24 for NS/NA, 16 for RA, 8 for RS, 40 for Redirect is refused", () => {
  assert.equal(check(ndp("fe80::1", "fe80::2", ns("fe80::2").slice(0, 23))), "too_short");
  assert.equal(check(ndp("fe80::1", "fe80::2", na(0, "fe80::1").slice(0, 23))), "too_short");
  assert.equal(
    check(ndp("fe80::1", "ff02::1", [134, 0, 0, 0, 64, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])),
    "too_short",
  );
  assert.equal(check(ndp("fe80::1", "ff02::2", [133, 0, 0, 0, 0, 0, 0])), "too_short");
  assert.equal(check(ndp("fe80::1", "fe80::2", [137, ...new Array(38).fill(0)])), "too_short");
});

Deno.test("ndp validation: an option of length 0, or running past the message, is refused (§7.1.1)", () => {
  assert.equal(
    check(ndp("fe80::1", "fe80::2", ns("fe80::2", [1, 0, 0, 0, 0, 0, 0, 0]))),
    "bad_option_length",
  );
  assert.equal(
    check(ndp("fe80::1", "fe80::2", ns("fe80::2", [1, 2, 0, 0, 0, 0, 0, 0]))),
    "bad_option_length",
  );
  assert.equal(check(ndp("fe80::1", "fe80::2", ns("fe80::2", [1]))), "bad_option_length");
  assert.equal(check(ndp("fe80::1", "fe80::2", ns("fe80::2", [1, 1, 0, 0, 0, 0, 0, 0]))), null);
});

Deno.test("ndp validation: a multicast target in NS or NA is refused", () => {
  assert.equal(check(ndp("fe80::1", "fe80::2", ns("ff02::1"))), "multicast_target");
  assert.equal(check(ndp("fe80::1", "fe80::2", na(0, "ff02::1"))), "multicast_target");
});

Deno.test("ndp validation: a DAD probe (NS from ::) must go to a solicited-node group, without SLLA (§7.1.1)", () => {
  assert.equal(check(ndp("::", "ff02::1:ff00:2", ns("fe80::2"))), null);
  assert.equal(
    check(ndp("::", "fe80::2", ns("fe80::2"))),
    "unspecified_source_not_to_solicited_node",
  );
  assert.equal(
    check(ndp("::", "ff02::1", ns("fe80::2"))),
    "unspecified_source_not_to_solicited_node",
  );
  assert.equal(
    check(ndp("::", "ff02::1:ff00:2", ns("fe80::2", [1, 1, 2, 0, 0, 0, 0, 1]))),
    "unspecified_source_with_lla",
  );
});

Deno.test("ndp validation: a solicited NA to a multicast address is refused; unsolicited ones are fine (§7.1.2)", () => {
  assert.equal(check(ndp("fe80::1", "ff02::1", na(0x40, "fe80::1"))), "solicited_to_multicast");
  assert.equal(check(ndp("fe80::1", "ff02::1", na(0x20, "fe80::1"))), null);
});

Deno.test("ndp validation: an RA from a global source is refused (§6.1.2)", () => {
  const ra = [134, 0, 0, 0, 64, 0, 0, 15, 0, 0, 0, 0, 0, 0, 0, 0];
  assert.equal(check(ndp("2001:db8::1", "ff02::1", ra)), "source_not_link_local");
  assert.equal(check(ndp("fe80::1", "ff02::1", ra)), null);
});

Deno.test("ndp construct: an RS with and without SLLA", () => {
  const b = new Uint8Array(16);
  assert.equal(writeRouterSolicitation(b, 0, null), 8);
  assert.equal(check(ndp("::", "ff02::2", b.subarray(0, 8))), null);
  assert.equal(writeRouterSolicitation(b, 0, mac("02:00:00:00:00:01")), 16);
  const p = ndp("fe80::1", "ff02::2", b);
  assert.equal(check(p), null);
  assert.deepEqual(
    ndpLinkLayerAddress(p, ndpFindOption(p, 48, p.length, NdpOptionType.SOURCE_LINK_LAYER_ADDRESS)),
    mac("02:00:00:00:00:01"),
  );
});

Deno.test("ndp validation: an RS from :: carrying SLLA is refused (§6.1.1)", () => {
  assert.equal(
    check(ndp("::", "ff02::2", [133, 0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 0, 0, 0, 0, 1])),
    "unspecified_source_with_lla",
  );
  assert.equal(check(ndp("::", "ff02::2", [133, 0, 0, 0, 0, 0, 0, 0])), null);
});

Deno.test("ndp validation: Redirect rules (§8.1)", () => {
  const redirect = (target: string, dest: string) => [
    137,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    ...IpAddress.parse(target)!.bytes(),
    ...IpAddress.parse(dest)!.bytes(),
  ];
  assert.equal(check(ndp("fe80::1", "2001:db8::5", redirect("fe80::9", "2001:db8:9::1"))), null);
  assert.equal(
    check(ndp("fe80::1", "2001:db8::5", redirect("2001:db8:9::1", "2001:db8:9::1"))),
    null,
  ); // on-link destination
  assert.equal(
    check(ndp("2001:db8::1", "2001:db8::5", redirect("fe80::9", "2001:db8:9::1"))),
    "source_not_link_local",
  );
  assert.equal(
    check(ndp("fe80::1", "2001:db8::5", redirect("fe80::9", "ff05::1"))),
    "multicast_destination",
  );
  assert.equal(
    check(ndp("fe80::1", "2001:db8::5", redirect("2001:db8::9", "2001:db8:9::1"))),
    "bad_redirect_target",
  );
  const p = ndp("fe80::1", "2001:db8::5", redirect("fe80::9", "2001:db8:9::1"));
  assert.equal(redirectDestinationKey(p, 40), k("2001:db8:9::1"));
});

Deno.test("ndp validation: a non-NDP type is said so", () => {
  assert.equal(check(ndp("fe80::1", "fe80::2", [128, 0, 0, 0, 0, 1, 0, 1])), "not_ndp");
});

Deno.test("ndp validation truncation sweep: every prefix of every fixture gives a reason or null, never a throw", () => {
  for (const f of [NS_PACKET, NA_PACKET, RA_PACKET]) {
    for (let end = 41; end <= f.length; end++) {
      const r = validateNdp(f, 0, 40, end);
      assert.ok(r === null || NDP_PROBLEMS.includes(r), `end ${end}: ${r}`);
      if (end < f.length && end - 40 < (f === RA_PACKET ? 16 : 24)) assert.equal(r, "too_short");
    }
  }
});

Deno.test("ndp validation fuzz: arbitrary messages never throw", () => {
  fc.assert(
    fc.property(
      fc.constantFrom(133, 134, 135, 136, 137),
      fc.uint8Array({ maxLength: 120 }),
      fc.constantFrom("::", "fe80::1", "2001:db8::1"),
      fc.constantFrom("ff02::1", "ff02::1:ff00:2", "fe80::2"),
      (type, body, src, dst) => {
        const p = ndp(src, dst, [type, 0, ...body]);
        const r = validateNdp(p, 0, 40, p.length);
        assert.ok(r === null || NDP_PROBLEMS.includes(r));
        ndpFindOption(p, 48, p.length, 3);
      },
    ),
    { numRuns: 2000, seed: 4861 },
  );
});
