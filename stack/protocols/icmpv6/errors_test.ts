import assert from "node:assert/strict";
import { TransportErrorKind } from "../../ip/transport_error.ts";
import { IpAddress } from "../../wire/ip_address.ts";
import { writeIpv6Header } from "../../wire/ipv6.ts";
import { icmpv6ErrorKind, icmpv6ErrorSuppressed, icmpv6ForKind } from "./errors.ts";

const k = (s: string) => IpAddress.parse(s)!.key;

function packet(src: string, dst: string, next: number, rest: number[]): Uint8Array {
  const p = new Uint8Array(40 + rest.length);
  writeIpv6Header(p, 0, rest.length, next, 64, k(src), k(dst));
  p.set(rest, 40);
  return p;
}

const suppressed = (p: Uint8Array, type: number, code: number, linkMulticast = false) =>
  icmpv6ErrorSuppressed(p, 0, p.length, type, code, linkMulticast);

Deno.test("icmpv6 errors: never about an ICMPv6 error or a Redirect (RFC 4443 §2.4 e.1)", () => {
  for (const type of [1, 2, 3, 4, 127, 137]) {
    assert.equal(
      suppressed(packet("2001:db8::1", "2001:db8::2", 58, [type, 0, 0, 0, 0, 0, 0, 0]), 1, 4),
      "no_error_for_icmp_error",
      `type ${type}`,
    );
  }
  // Behind a Destination Options header too.
  const behind = packet("2001:db8::1", "2001:db8::2", 60, [
    58,
    0,
    1,
    4,
    0,
    0,
    0,
    0,
    1,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
  ]);
  assert.equal(suppressed(behind, 4, 1), "no_error_for_icmp_error");
  // An echo request may be answered with an error.
  assert.equal(
    suppressed(packet("2001:db8::1", "2001:db8::2", 58, [128, 0, 0, 0, 0, 0, 0, 0]), 4, 0),
    null,
  );
});

Deno.test("icmpv6 errors: to multicast only Packet Too Big and Parameter Problem code 2 (RFC 4443 §2.4 e.2, e.3)", () => {
  const p = packet("2001:db8::1", "ff02::1", 17, new Array(8).fill(0));
  assert.equal(suppressed(p, 1, 4), "no_error_for_multicast");
  assert.equal(suppressed(p, 3, 0), "no_error_for_multicast");
  assert.equal(suppressed(p, 4, 0), "no_error_for_multicast");
  assert.equal(suppressed(p, 2, 0), null);
  assert.equal(suppressed(p, 4, 2), null);
  const linkMulticast = packet("2001:db8::1", "2001:db8::2", 17, new Array(8).fill(0));
  assert.equal(suppressed(linkMulticast, 1, 4, true), "no_error_for_multicast");
  assert.equal(suppressed(linkMulticast, 1, 4, false), null);
});

Deno.test("icmpv6 errors: never to an unspecified or multicast source (RFC 4443 §2.4 e.4)", () => {
  assert.equal(
    suppressed(packet("::", "2001:db8::2", 17, new Array(8).fill(0)), 2, 0),
    "no_error_for_bad_source",
  );
  assert.equal(
    suppressed(packet("ff02::1", "2001:db8::2", 17, new Array(8).fill(0)), 2, 0),
    "no_error_for_bad_source",
  );
  assert.equal(
    icmpv6ErrorSuppressed(new Uint8Array(39), 0, 39, 1, 4, false),
    "no_error_for_bad_packet",
  );
});

Deno.test("icmpv6 errors map to transport error kinds and back (RFC 4443 §3)", () => {
  const cases: [number, number, number][] = [
    [1, 0, TransportErrorKind.NETWORK_UNREACHABLE],
    [1, 1, TransportErrorKind.PROHIBITED],
    [1, 3, TransportErrorKind.HOST_UNREACHABLE],
    [1, 4, TransportErrorKind.PORT_UNREACHABLE],
    [1, 5, TransportErrorKind.PROHIBITED],
    [2, 0, TransportErrorKind.PACKET_TOO_BIG],
    [3, 0, TransportErrorKind.TIME_EXCEEDED],
    [3, 1, TransportErrorKind.TIME_EXCEEDED],
    [4, 0, TransportErrorKind.PARAMETER_PROBLEM],
    [4, 1, TransportErrorKind.PROTOCOL_UNREACHABLE],
  ];
  for (const [type, code, kind] of cases) {
    assert.equal(icmpv6ErrorKind(type, code), kind, `${type}/${code}`);
  }
  assert.equal(icmpv6ErrorKind(128, 0), TransportErrorKind.NONE);
  for (const kind of [2, 3, 4, 6, 7, 8, 5]) {
    const tc = icmpv6ForKind(kind);
    assert.ok(tc >= 0);
    assert.equal(icmpv6ErrorKind(tc >> 8, tc & 0xff), kind, `kind ${kind}`);
  }
  assert.equal(icmpv6ForKind(TransportErrorKind.SOURCE_ROUTE_FAILED), -1);
});
