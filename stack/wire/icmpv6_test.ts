import assert from "node:assert/strict";
import { finishChecksum, sumBytes } from "./checksum.ts";
import { pseudoHeaderSum } from "../ip/pseudo_header.ts";
import {
  ICMPV6_ECHO_REPLY,
  ICMPV6_MLD2_REPORT,
  ICMPV6_NEIGHBOR_ADVERTISEMENT,
  ICMPV6_NEIGHBOR_SOLICITATION,
  ICMPV6_ROUTER_ADVERTISEMENT,
  icmpv6Checksum,
  icmpv6ChecksumField,
  icmpv6Code,
  icmpv6EchoIdentifier,
  icmpv6EchoSequence,
  icmpv6Type,
  icmpv6Word,
  isIcmpv6Error,
  setIcmpv6Checksum,
  verifyIcmpv6Checksum,
  writeIcmpv6Header,
} from "./icmpv6.ts";
import { ipv6DestinationKey, ipv6SourceKey } from "./ipv6.ts";
import { ICMPV6_TYPE_NAMES } from "./ipv6_ext.ts";
import {
  ECHO_REPLY_PACKET,
  MLD_REPORT_PACKET,
  NA_PACKET,
  NS_PACKET,
  RA_PACKET,
} from "./ipv6_test_fixtures.ts";

Deno.test("icmpv6 deconstruct: the capture's echo reply (RFC 4443 §4.2)", () => {
  const p = ECHO_REPLY_PACKET;
  assert.equal(icmpv6Type(p, 40), ICMPV6_ECHO_REPLY);
  assert.equal(icmpv6Code(p, 40), 0);
  assert.equal(icmpv6ChecksumField(p, 40), 0x7ccf);
  assert.equal(icmpv6EchoIdentifier(p, 40), 0xeaf5);
  assert.equal(icmpv6EchoSequence(p, 40), 1);
  assert.equal(icmpv6Word(p, 40), 0xeaf50001);
});

Deno.test("icmpv6 checksum: every capture fixture verifies (RFC 4443 §2.3, pseudo-header RFC 8200 §8.1)", () => {
  for (
    const [p, at, type] of [
      [ECHO_REPLY_PACKET, 40, ICMPV6_ECHO_REPLY],
      [NS_PACKET, 40, ICMPV6_NEIGHBOR_SOLICITATION],
      [NA_PACKET, 40, ICMPV6_NEIGHBOR_ADVERTISEMENT],
      [RA_PACKET, 40, ICMPV6_ROUTER_ADVERTISEMENT],
      [MLD_REPORT_PACKET, 48, ICMPV6_MLD2_REPORT], // behind a Hop-by-Hop header
    ] as const
  ) {
    assert.equal(icmpv6Type(p, at), type);
    assert.ok(verifyIcmpv6Checksum(p, 0, at, p.length), ICMPV6_TYPE_NAMES[type]);
    assert.equal(icmpv6Checksum(p, 0, at, p.length), icmpv6ChecksumField(p, at));
  }
});

Deno.test("icmpv6 checksum agrees with the shared pseudo-header sum of stack/ip", () => {
  const p = NS_PACKET;
  const msg = p.slice(40);
  msg[2] = msg[3] = 0;
  const pseudo = pseudoHeaderSum(ipv6SourceKey(p, 0), ipv6DestinationKey(p, 0), 58, msg.length);
  assert.equal(finishChecksum(sumBytes(msg, pseudo)), 0x44b7);
});

Deno.test("icmpv6 checksum: one flipped bit, in the message or an address, fails verification", () => {
  for (const at of [9, 30, 41, 50, 71]) {
    const p = NS_PACKET.slice();
    p[at] = p[at]! ^ 0x10;
    assert.ok(!verifyIcmpv6Checksum(p, 0, 40, p.length), `byte ${at}`);
  }
});

Deno.test("icmpv6 construct: header writer plus checksum gives the capture's echo reply", () => {
  const p = ECHO_REPLY_PACKET.slice();
  p.fill(0xff, 40, 48);
  writeIcmpv6Header(p, 40, ICMPV6_ECHO_REPLY, 0, (0xeaf5 << 16) | 1);
  setIcmpv6Checksum(p, 0, 40, p.length);
  assert.deepEqual(p, ECHO_REPLY_PACKET);
});

Deno.test("icmpv6 checksum of an odd-length message (RFC 4443 §2.3 pads with a zero byte)", () => {
  const p = ECHO_REPLY_PACKET.slice(0, 103);
  p[5] = 63;
  setIcmpv6Checksum(p, 0, 40, 103);
  assert.ok(verifyIcmpv6Checksum(p, 0, 40, 103));
  const padded = new Uint8Array(104);
  padded.set(p);
  padded[103] = 0xff; // past the message: not summed
  assert.ok(verifyIcmpv6Checksum(padded, 0, 40, 103));
});

Deno.test("icmpv6 truncation sweep: accessors and checksum never throw on any prefix", () => {
  for (const f of [ECHO_REPLY_PACKET, NS_PACKET, RA_PACKET]) {
    for (let n = 0; n <= f.length; n++) {
      const p = f.subarray(0, n);
      icmpv6Type(p, 40);
      icmpv6Word(p, 40);
      if (n >= 44) verifyIcmpv6Checksum(p, 0, 40, n);
    }
  }
});

Deno.test("isIcmpv6Error(): types below 128 are errors (RFC 4443 §2.1)", () => {
  assert.deepEqual([0, 1, 4, 127, 128, 135, 255].map(isIcmpv6Error), [
    true,
    true,
    true,
    true,
    false,
    false,
    false,
  ]);
});
