import assert from "node:assert/strict";
import { formatIpKey, IpAddress } from "../../wire/ip_address.ts";
import { subnetRouterAnycast } from "./anycast.ts";

const of = (address: string, prefixLength: number) => {
  const key = subnetRouterAnycast(IpAddress.parse(address)!.bytes(), prefixLength);
  return key === null ? null : formatIpKey(key);
};

Deno.test("subnetRouterAnycast: the prefix with a zero interface identifier, for prefixes shorter than /127", () => {
  assert.equal(of("fd00::1", 64), "fd00::");
  assert.equal(of("2001:db8:1:2:3:4:5:6", 64), "2001:db8:1:2::");
  assert.equal(of("2001:db8:abcd:ffff::1", 60), "2001:db8:abcd:fff0::"); // a prefix ending mid-byte
  assert.equal(of("2001:db8::ffff:1", 113), "2001:db8::ffff:0");
  assert.equal(of("fe80::1", 64), "fe80::");
  assert.equal(of("2001:db8::3", 126), "2001:db8::");
  assert.equal(of("2001:db8::1", 127), null); // RFC 6164
  assert.equal(of("2001:db8::1", 128), null);
  assert.equal(of("2001:db8::1", 0), null); // ::/0 is no subnet
  assert.equal(of("::1:2", 64), null); // a prefix of zeros: the unspecified address
});
