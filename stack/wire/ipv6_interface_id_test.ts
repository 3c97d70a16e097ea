import assert from "node:assert/strict";
import { IpAddress } from "./ip_address.ts";
import {
  eui64Address,
  isReservedInterfaceId,
  type KeyedHash32,
  LINK_LOCAL_PREFIX,
  stablePrivacyAddress,
} from "./ipv6_interface_id.ts";
import { SeededRng } from "../rng.ts";
import { KeyedHash } from "../protocols/tcp/isn.ts";

const k = (s: string) => IpAddress.parse(s)!.key;
const text = (key: string | number) => IpAddress.fromKey(key).toString();

Deno.test("eui64Address(): the link-local addresses of the capture's hosts come from their MACs (RFC 4291 App. A)", () => {
  // icmpv6.pcap: the RA from b0:99:28:c8:d6:6c and the MLD report from 00:15:17:cc:e5:46.
  assert.equal(
    text(eui64Address(LINK_LOCAL_PREFIX, new Uint8Array([0xb0, 0x99, 0x28, 0xc8, 0xd6, 0x6c]))),
    "fe80::b299:28ff:fec8:d66c",
  );
  assert.equal(
    text(eui64Address(LINK_LOCAL_PREFIX, new Uint8Array([0x00, 0x15, 0x17, 0xcc, 0xe5, 0x46]))),
    "fe80::215:17ff:fecc:e546",
  );
  assert.equal(
    text(eui64Address(k("2001:db8:1:2::"), new Uint8Array([2, 0, 0, 0, 0, 1]))),
    "2001:db8:1:2:0:ff:fe00:1",
  );
});

Deno.test("stablePrivacyAddress(): stable for one prefix, interface and secret (RFC 7217 §5)", () => {
  const hash = new KeyedHash(new SeededRng(7));
  const prefix = k("2001:db8:1:2::");
  const a = stablePrivacyAddress(prefix, { hash, iface: 3 });
  assert.equal(a, stablePrivacyAddress(prefix, { hash, iface: 3 }));
  assert.ok(text(a).startsWith("2001:db8:1:2:"));
  // Same secret recreated from the same seed: the same address after a restart.
  assert.equal(
    a,
    stablePrivacyAddress(prefix, { hash: new KeyedHash(new SeededRng(7)), iface: 3 }),
  );
});

Deno.test("stablePrivacyAddress(): the identifier changes with the prefix, interface, DAD counter and secret (RFC 7217 §5, §6)", () => {
  const hash = new KeyedHash(new SeededRng(7));
  const iid = (key: string | number) => text(key).split(":").slice(-4).join(":");
  const base = stablePrivacyAddress(k("2001:db8:1:2::"), { hash, iface: 3 });
  const others = [
    stablePrivacyAddress(k("2001:db8:1:3::"), { hash, iface: 3 }),
    stablePrivacyAddress(k("2001:db8:1:2::"), { hash, iface: 4 }),
    stablePrivacyAddress(k("2001:db8:1:2::"), { hash, iface: 3, dadCounter: 1 }),
    stablePrivacyAddress(k("2001:db8:1:2::"), { hash: new KeyedHash(new SeededRng(8)), iface: 3 }),
  ];
  for (const o of others) assert.notEqual(iid(o), iid(base));
});

Deno.test("stablePrivacyAddress(): a reserved identifier moves on to the next DAD counter (RFC 7217 §5, RFC 5453)", () => {
  const calls: number[] = [];
  const zeroFirst: KeyedHash32 = {
    hash(_a, _b, _c, d) {
      calls.push(d);
      return d < 2 ? 0 : 0x1234 + d;
    },
  };
  const a = stablePrivacyAddress(k("2001:db8::"), { hash: zeroFirst, iface: 1 });
  assert.deepEqual(calls, [0, 1, 2, 3]);
  assert.equal(text(a), "2001:db8::1236:0:1237");
});

Deno.test("isReservedInterfaceId(): RFC 5453's ranges", () => {
  assert.ok(isReservedInterfaceId(0, 0));
  assert.ok(isReservedInterfaceId(0x02005efe, 0x0a000001));
  assert.ok(isReservedInterfaceId(0xfdffffff, 0xffffffff));
  assert.ok(!isReservedInterfaceId(0xfdffffff, 0xffffff7f));
  assert.ok(!isReservedInterfaceId(0, 1));
});
