import assert from "node:assert/strict";
import fc from "npm:fast-check@3.23.2";
import { internetChecksum } from "./checksum.ts";
import {
  emitIcmpv4,
  formatIcmpv4Repr,
  ICMP_ADMIN_PROHIBITED,
  ICMP_DEST_UNREACHABLE,
  ICMP_ECHO_REPLY,
  ICMP_ECHO_REQUEST,
  ICMP_FRAG_NEEDED,
  ICMP_PARAMETER_PROBLEM,
  ICMP_PORT_UNREACHABLE,
  ICMP_REDIRECT,
  ICMP_TIME_EXCEEDED,
  ICMP_TTL_EXCEEDED,
  ICMPV4_HEADER_LEN,
  icmpv4BufferLen,
  Icmpv4Packet,
  type Icmpv4Repr,
  parseIcmpv4,
} from "./icmpv4.ts";

// shared/pcaps/icmp_echo.pcapng frame 1, ICMP message (40 bytes):
// Windows ping 192.168.100.138 > 192.168.100.1.
// deno-fmt-ignore
const ECHO_REQUEST = new Uint8Array([
  0x08, 0x00, // type 8 (echo request), code 0
  0x14, 0x5c, // checksum
  0x05, 0x00, // identifier 0x0500
  0x34, 0x00, // sequence 0x3400
  0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f, 0x70, // "abcd..."
  0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69,
]);

// icmp_echo.pcapng frame 2, ICMP message (40 bytes): the reply.
// deno-fmt-ignore
const ECHO_REPLY = new Uint8Array([
  0x00, 0x00, 0x1c, 0x5c, 0x05, 0x00, 0x34, 0x00, // type 0, checksum 0x1c5c, id 0x0500, seq 0x3400
  ...ECHO_REQUEST.subarray(8),
]);

// shared/pcaps/icmp-destunreach-udp.pcap frame 1, ICMP message (156 bytes):
// port unreachable quoting a DNS reply 192.168.1.1.53 > 192.168.1.102.59207.
// deno-fmt-ignore
const PORT_UNREACHABLE = new Uint8Array([
  0x03, 0x03, 0x03, 0xbb, 0x00, 0x00, 0x00, 0x00, // type 3, code 3, checksum 0x03bb, unused
  0x45, 0x00, 0x00, 0xa3, 0x37, 0x11, 0x00, 0x00, 0x40, 0x11, 0xbf, 0x81, // quoted IPv4 header
  0xc0, 0xa8, 0x01, 0x01, 0xc0, 0xa8, 0x01, 0x66,
  0x00, 0x35, 0xe7, 0x47, 0x00, 0x8f, 0x76, 0xd2, // quoted UDP header: 53 > 59207
  0x98, 0xa4, 0x81, 0x80, 0x00, 0x01, 0x00, 0x01, 0x00, 0x04, 0x00, 0x00, // quoted DNS...
  0x06, 0x73, 0x65, 0x63, 0x75, 0x72, 0x65, 0x03, 0x65, 0x64, 0x34, 0x03, 0x6e, 0x65, 0x74, 0x00,
  0x00, 0x01, 0x00, 0x01, 0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x01, 0x2c, 0x00, 0x04,
  0xd0, 0x5e, 0x14, 0x0e, 0xc0, 0x13, 0x00, 0x02, 0x00, 0x01, 0x00, 0x00, 0x01, 0x2c, 0x00, 0x0f,
  0x05, 0x64, 0x6e, 0x73, 0x30, 0x32, 0x06, 0x65, 0x78, 0x6f, 0x64, 0x75, 0x73, 0xc0, 0x17, 0xc0,
  0x13, 0x00, 0x02, 0x00, 0x01, 0x00, 0x00, 0x01, 0x2c, 0x00, 0x08, 0x05, 0x64, 0x6e, 0x73, 0x30,
  0x31, 0xc0, 0x42, 0xc0, 0x13, 0x00, 0x02, 0x00, 0x01, 0x00, 0x00, 0x01, 0x2c, 0x00, 0x08, 0x05,
  0x64, 0x6e, 0x73, 0x30, 0x34, 0xc0, 0x42, 0xc0, 0x13, 0x00, 0x02, 0x00,
]);

// shared/pcaps/icmp_traceroute.pcapng first time exceeded, ICMP message (36
// bytes) from 192.168.100.1, quoting the echo request with TTL 1 to 4.2.2.1.
// deno-fmt-ignore
const TIME_EXCEEDED = new Uint8Array([
  0x0b, 0x00, 0xf4, 0xff, 0x00, 0x00, 0x00, 0x00, // type 11, code 0, checksum 0xf4ff
  0x45, 0x00, 0x00, 0x5c, 0xff, 0x51, 0x00, 0x00, 0x01, 0x01, 0x8f, 0x1a, // quoted IPv4 header
  0xc0, 0xa8, 0x64, 0x8a, 0x04, 0x02, 0x02, 0x01, // 192.168.100.138 > 4.2.2.1
  0x08, 0x00, 0xba, 0xff, 0x05, 0x00, 0x38, 0x00, // quoted ICMP echo header
]);

// shared/pcaps/smtp-icmp-fragneeded.pcap frame 26, the first 36 bytes of a
// 556-byte ICMP message (so the checksum cannot be verified on this prefix):
// need to frag, MTU 1492, quoting a DF TCP segment 10.10.1.4 > 74.53.140.153:25.
// deno-fmt-ignore
const FRAG_NEEDED_PREFIX = new Uint8Array([
  0x03, 0x04, 0xc9, 0x4e, // type 3, code 4, checksum (of the full message)
  0x00, 0x00, 0x05, 0xd4, // unused, next-hop MTU 1492
  0x45, 0x00, 0x05, 0xdc, 0x25, 0x4f, 0x40, 0x00, 0x7e, 0x06, 0xef, 0xf0,
  0x0a, 0x0a, 0x01, 0x04, 0x4a, 0x35, 0x8c, 0x99, // 10.10.1.4 > 74.53.140.153
  0x05, 0xbe, 0x00, 0x19, 0x7e, 0xc4, 0x54, 0x47, // TCP 1470 > 25
]);

// Crafted (none in the corpus): parameter problem, pointer 9, quoting a
// 20-byte IPv4 header and 8 bytes; checksum computed with internetChecksum.
// deno-fmt-ignore
const PARAMETER_PROBLEM = new Uint8Array([
  0x0c, 0x00, 0x00, 0x00, // type 12, code 0, checksum (filled below)
  0x09, 0x00, 0x00, 0x00, // pointer 9
  0x45, 0x00, 0x00, 0x1c, 0x00, 0x01, 0x00, 0x00, 0x40, 0xfe, 0x00, 0x00,
  0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
]);
new DataView(PARAMETER_PROBLEM.buffer).setUint16(2, internetChecksum(PARAMETER_PROBLEM));

const FIXTURES = [ECHO_REQUEST, ECHO_REPLY, PORT_UNREACHABLE, TIME_EXCEEDED, PARAMETER_PROBLEM];

function checked(bytes: Uint8Array): Icmpv4Packet {
  const p = Icmpv4Packet.check(bytes);
  assert.ok(typeof p !== "string", `check: ${p}`);
  return p;
}

function parsed(bytes: Uint8Array, verifyChecksum = true): Icmpv4Repr {
  const r = parseIcmpv4(checked(bytes), { verifyChecksum });
  assert.ok(typeof r !== "string", `parse: ${r}`);
  return r;
}

Deno.test("Icmpv4Packet deconstructs an echo request", () => {
  const p = checked(ECHO_REQUEST);
  assert.equal(p.type, ICMP_ECHO_REQUEST);
  assert.equal(p.code, 0);
  assert.equal(p.checksum, 0x145c);
  assert.equal(p.identifier, 0x0500);
  assert.equal(p.sequence, 0x3400);
  assert.equal(p.restOfHeader, 0x05003400);
  assert.equal(p.payload.length, 32);
  assert.equal(p.payload[0], 0x61);
  assert.ok(!p.isError);
  assert.ok(p.verifyChecksum());
  assert.ok(checked(ECHO_REPLY).verifyChecksum());
});

Deno.test("Icmpv4Packet deconstructs a port unreachable", () => {
  const p = checked(PORT_UNREACHABLE);
  assert.equal(p.type, ICMP_DEST_UNREACHABLE);
  assert.equal(p.code, ICMP_PORT_UNREACHABLE);
  assert.equal(p.restOfHeader, 0);
  assert.equal(p.payload.length, 148);
  assert.equal(p.payload[0], 0x45);
  assert.ok(p.isError);
  assert.ok(p.verifyChecksum());
});

Deno.test("Icmpv4Packet deconstructs a fragmentation-needed next-hop MTU", () => {
  const p = checked(FRAG_NEEDED_PREFIX);
  assert.equal(p.type, ICMP_DEST_UNREACHABLE);
  assert.equal(p.code, ICMP_FRAG_NEEDED);
  assert.equal(p.nextHopMtu, 1492);
});

Deno.test("Icmpv4Packet deconstructs time exceeded and parameter problem", () => {
  const t = checked(TIME_EXCEEDED);
  assert.equal(t.type, ICMP_TIME_EXCEEDED);
  assert.equal(t.code, ICMP_TTL_EXCEEDED);
  assert.ok(t.verifyChecksum());
  assert.equal(t.payload.length, 28);
  const pp = checked(PARAMETER_PROBLEM);
  assert.equal(pp.type, ICMP_PARAMETER_PROBLEM);
  assert.equal(pp.pointer, 9);
  assert.ok(pp.verifyChecksum());
});

Deno.test("Icmpv4Packet constructs the echo request field by field", () => {
  const bytes = new Uint8Array(ECHO_REQUEST.length);
  const p = Icmpv4Packet.unchecked(bytes);
  p.type = ICMP_ECHO_REQUEST;
  p.code = 0;
  p.identifier = 0x0500;
  p.sequence = 0x3400;
  p.payload.set(ECHO_REQUEST.subarray(8));
  p.fillChecksum();
  assert.deepEqual(bytes, ECHO_REQUEST);
});

Deno.test("Icmpv4Packet constructs frag-needed, redirect and parameter-problem headers", () => {
  const bytes = new Uint8Array(8);
  const p = Icmpv4Packet.unchecked(bytes);
  p.type = ICMP_DEST_UNREACHABLE;
  p.code = ICMP_FRAG_NEEDED;
  p.nextHopMtu = 1492;
  assert.deepEqual([...bytes], [3, 4, 0, 0, 0, 0, 0x05, 0xd4]);
  p.type = ICMP_REDIRECT;
  p.gateway = 0x0a000001;
  assert.deepEqual([...bytes.subarray(4)], [10, 0, 0, 1]);
  p.restOfHeader = 0;
  p.pointer = 9;
  assert.deepEqual([...bytes.subarray(4)], [9, 0, 0, 0]);
  p.checksum = 0xbeef;
  assert.equal(p.checksum, 0xbeef);
});

Deno.test("parseIcmpv4() reads the fixtures", () => {
  assert.deepEqual(parsed(ECHO_REQUEST), {
    kind: "echo",
    type: ICMP_ECHO_REQUEST,
    code: 0,
    identifier: 0x0500,
    sequence: 0x3400,
    data: ECHO_REQUEST.subarray(8),
  });
  assert.deepEqual(parsed(ECHO_REPLY), {
    kind: "echo",
    type: ICMP_ECHO_REPLY,
    code: 0,
    identifier: 0x0500,
    sequence: 0x3400,
    data: ECHO_REQUEST.subarray(8),
  });
  assert.deepEqual(parsed(PORT_UNREACHABLE), {
    kind: "dest_unreachable",
    code: ICMP_PORT_UNREACHABLE,
    quoted: PORT_UNREACHABLE.subarray(8),
  });
  assert.deepEqual(parsed(FRAG_NEEDED_PREFIX, false), {
    kind: "dest_unreachable",
    code: ICMP_FRAG_NEEDED,
    nextHopMtu: 1492,
    quoted: FRAG_NEEDED_PREFIX.subarray(8),
  });
  assert.deepEqual(parsed(TIME_EXCEEDED), {
    kind: "time_exceeded",
    code: ICMP_TTL_EXCEEDED,
    quoted: TIME_EXCEEDED.subarray(8),
  });
  assert.deepEqual(parsed(PARAMETER_PROBLEM), {
    kind: "parameter_problem",
    code: 0,
    pointer: 9,
    quoted: PARAMETER_PROBLEM.subarray(8),
  });
});

Deno.test("parseIcmpv4() keeps unknown types generic", () => {
  const bytes = new Uint8Array([42, 7, 0, 0, 1, 2, 3, 4, 0xaa]);
  new DataView(bytes.buffer).setUint16(2, internetChecksum(bytes));
  assert.deepEqual(parsed(bytes), {
    kind: "other",
    type: 42,
    code: 7,
    rest: 0x01020304,
    data: new Uint8Array([0xaa]),
  });
});

Deno.test("parseIcmpv4() borrows data from the message", () => {
  const r = parsed(ECHO_REQUEST);
  assert.ok(r.kind === "echo");
  assert.equal(r.data.buffer, ECHO_REQUEST.buffer);
  assert.equal(r.data.byteOffset, ECHO_REQUEST.byteOffset + 8);
});

Deno.test("parseIcmpv4() rejects a bad checksum unless told not to verify", () => {
  assert.equal(parseIcmpv4(checked(FRAG_NEEDED_PREFIX)), "bad_checksum");
  const bytes = new Uint8Array(ECHO_REQUEST);
  bytes[39] = 0;
  assert.equal(parseIcmpv4(checked(bytes)), "bad_checksum");
  assert.ok(typeof parseIcmpv4(checked(bytes), { verifyChecksum: false }) !== "string");
});

Deno.test("emitIcmpv4() writes the fixtures", () => {
  for (const fixture of FIXTURES) {
    const repr = parsed(fixture);
    const bytes = new Uint8Array(icmpv4BufferLen(repr));
    emitIcmpv4(repr, bytes);
    assert.deepEqual(bytes, fixture);
  }
});

Deno.test("emitIcmpv4() writes a frag-needed header with the MTU", () => {
  const repr = parsed(FRAG_NEEDED_PREFIX, false);
  const bytes = new Uint8Array(icmpv4BufferLen(repr));
  emitIcmpv4(repr, bytes);
  assert.deepEqual(bytes.subarray(4), FRAG_NEEDED_PREFIX.subarray(4));
  assert.ok(checked(bytes).verifyChecksum());
});

Deno.test("emitIcmpv4() leaves data built in place where it is", () => {
  const bytes = new Uint8Array(16);
  const data = bytes.subarray(ICMPV4_HEADER_LEN);
  data.set([1, 2, 3, 4, 5, 6, 7, 8]);
  emitIcmpv4(
    { kind: "echo", type: ICMP_ECHO_REPLY, code: 0, identifier: 7, sequence: 9, data },
    bytes,
  );
  assert.deepEqual([...bytes.subarray(8)], [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.ok(checked(bytes).verifyChecksum());
});

Deno.test("emitIcmpv4() throws RangeError into a short buffer", () => {
  assert.throws(() => emitIcmpv4(parsed(ECHO_REQUEST), new Uint8Array(39)), RangeError);
});

Deno.test("Icmpv4Packet.check() truncation sweep: fewer than 8 bytes is truncated, never an exception", () => {
  for (const fixture of FIXTURES) {
    for (let n = 0; n <= fixture.length; n++) {
      const p = Icmpv4Packet.check(fixture.subarray(0, n));
      if (n < ICMPV4_HEADER_LEN) {
        assert.equal(p, "truncated", `prefix ${n}`);
        continue;
      }
      // Longer prefixes are valid views; a shortened message usually fails its
      // checksum (not always: dropping a trailing zero byte keeps the sum).
      assert.ok(typeof p !== "string");
      const r = parseIcmpv4(p);
      assert.ok(typeof r !== "string" || r === "bad_checksum");
      assert.ok(typeof parseIcmpv4(p, { verifyChecksum: false }) !== "string");
      p.toString();
    }
  }
});

Deno.test("Icmpv4Packet.toString() is tcpdump style", () => {
  assert.equal(
    checked(ECHO_REQUEST).toString(),
    "ICMP echo request, id 1280, seq 13312, length 40",
  );
  assert.equal(checked(ECHO_REPLY).toString(), "ICMP echo reply, id 1280, seq 13312, length 40");
  assert.equal(
    checked(PORT_UNREACHABLE).toString(),
    "ICMP 192.168.1.102 udp port 59207 unreachable, length 156",
  );
  assert.equal(
    checked(FRAG_NEEDED_PREFIX).toString(),
    "ICMP 74.53.140.153 unreachable - need to frag (mtu 1492), length 36",
  );
  assert.equal(checked(TIME_EXCEEDED).toString(), "ICMP time exceeded in-transit, length 36");
  assert.equal(
    checked(PARAMETER_PROBLEM).toString(),
    "ICMP parameter problem - octet 9, length 36",
  );
  const admin = new Uint8Array(PORT_UNREACHABLE);
  admin[1] = ICMP_ADMIN_PROHIBITED;
  assert.equal(
    checked(admin).toString(),
    "ICMP 192.168.1.102 unreachable - admin prohibited filter, length 156",
  );
  admin[1] = 1;
  assert.equal(checked(admin).toString(), "ICMP host 192.168.1.102 unreachable, length 156");
  assert.equal(
    checked(PORT_UNREACHABLE.subarray(0, 20)).toString(),
    "ICMP dest unreachable, code 3, length 20",
  );
  const redirect = new Uint8Array(TIME_EXCEEDED);
  redirect.set([ICMP_REDIRECT, 1, 0, 0, 192, 168, 100, 254]);
  assert.equal(
    checked(redirect).toString(),
    "ICMP redirect 4.2.2.1 to host 192.168.100.254, length 36",
  );
  assert.equal(
    checked(new Uint8Array([42, 0, 0, 0, 0, 0, 0, 0])).toString(),
    "ICMP type-#42, length 8",
  );
  for (const fixture of FIXTURES) {
    assert.equal(formatIcmpv4Repr(parsed(fixture)), checked(fixture).toString());
  }
});

const u16 = fc.integer({ min: 0, max: 0xffff });
const body = fc.uint8Array({ maxLength: 64 });
const arbRepr: fc.Arbitrary<Icmpv4Repr> = fc.oneof(
  fc.record({
    kind: fc.constant("echo" as const),
    type: fc.constantFrom(0 as const, 8 as const),
    code: fc.integer({ min: 0, max: 255 }),
    identifier: u16,
    sequence: u16,
    data: body,
  }),
  fc.integer({ min: 0, max: 255 }).chain((code) =>
    code === ICMP_FRAG_NEEDED
      ? fc.record({
        kind: fc.constant("dest_unreachable" as const),
        code: fc.constant(code),
        nextHopMtu: u16,
        quoted: body,
      })
      : fc.record({
        kind: fc.constant("dest_unreachable" as const),
        code: fc.constant(code),
        quoted: body,
      })
  ),
  fc.record({
    kind: fc.constant("time_exceeded" as const),
    code: fc.integer({ min: 0, max: 255 }),
    quoted: body,
  }),
  fc.record({
    kind: fc.constant("parameter_problem" as const),
    code: fc.integer({ min: 0, max: 255 }),
    pointer: fc.integer({ min: 0, max: 255 }),
    quoted: body,
  }),
  fc.record({
    kind: fc.constant("other" as const),
    type: fc.integer({ min: 0, max: 255 }).filter((t) => ![0, 3, 8, 11, 12].includes(t)),
    code: fc.integer({ min: 0, max: 255 }),
    rest: fc.integer({ min: 0, max: 0xffffffff }),
    data: body,
  }),
);

Deno.test("parseIcmpv4(emitIcmpv4(repr)) equals repr", () => {
  fc.assert(
    fc.property(arbRepr, (repr) => {
      const bytes = new Uint8Array(icmpv4BufferLen(repr));
      emitIcmpv4(repr, bytes);
      assert.equal(internetChecksum(bytes), 0);
      assert.deepEqual(parsed(bytes), repr);
      assert.equal(formatIcmpv4Repr(repr), checked(bytes).toString());
    }),
    { numRuns: 500 },
  );
});

Deno.test("Icmpv4Packet.check() and parseIcmpv4() never throw on arbitrary bytes", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 64 }),
      fc.constantFrom(0, 3, 4, 5, 8, 9, 10, 11, 12, 13, 14, 99),
      (bytes, type) => {
        if (bytes.length > 0) bytes[0] = type;
        const p = Icmpv4Packet.check(bytes);
        if (typeof p === "string") return;
        parseIcmpv4(p);
        const r = parseIcmpv4(p, { verifyChecksum: false });
        assert.ok(typeof r !== "string");
        formatIcmpv4Repr(r);
        p.toString();
      },
    ),
    { numRuns: 1000 },
  );
});
