import assert from "node:assert/strict";
import fc from "npm:fast-check@3.23.2";
import {
  describeTcpSegment,
  emitTcp,
  formatTcpOptions,
  formatTcpRepr,
  parseTcp,
  readTcpOption,
  TCP_ACK,
  TCP_FIN,
  TCP_HEADER_LEN,
  TCP_OPT_MSS,
  TCP_PSH,
  TCP_RST,
  TCP_SYN,
  tcpHeaderLength,
  TcpOptionSet,
  TcpPacket,
  type TcpRepr,
} from "./tcp.ts";

// shared/pcaps/linux-probes/tun-curl4.pcap frame 1, the TCP segment (40 bytes):
// 10.77.0.1.46970 > 10.77.0.2.8080, a Linux SYN.
// deno-fmt-ignore
const LINUX_SYN = new Uint8Array([
  0xb7, 0x7a, 0x1f, 0x90, // ports 46970 > 8080
  0x93, 0x26, 0x4a, 0x07, // seq 2468760071
  0x00, 0x00, 0x00, 0x00, // ack 0
  0xa0, 0x02, // data offset 10 (40 bytes), SYN
  0xfa, 0xf0, // window 64240
  0x71, 0xf2, // checksum
  0x00, 0x00, // urgent pointer
  0x02, 0x04, 0x05, 0xb4, // MSS 1460
  0x04, 0x02, // SACK permitted
  0x08, 0x0a, 0xe4, 0x3f, 0x2e, 0x05, 0x00, 0x00, 0x00, 0x00, // TS val 3829345797 ecr 0
  0x01, // NOP
  0x03, 0x03, 0x0a, // window scale 10
]);
const LINUX_SYN_PSEUDO = { src: 0x0a4d0001, dst: 0x0a4d0002 };

// shared/pcaps/tcp_refuseconnection.pcapng frame 2, TCP segment plus 6 bytes of
// Ethernet padding (the IP total length says 40, so the segment is 20 bytes):
// 192.168.100.1.80 > 192.168.100.138.3372, RST+ACK.
// deno-fmt-ignore
const REFUSE_RST = new Uint8Array([
  0x00, 0x50, 0x0d, 0x2c, // ports 80 > 3372
  0x00, 0x00, 0x00, 0x00, // seq 0
  0x38, 0xaf, 0xfe, 0x14, // ack 951057940
  0x50, 0x14, // data offset 5, RST+ACK
  0x00, 0x00, // window 0
  0x21, 0xb4, // checksum
  0x00, 0x00, // urgent pointer
]);
const REFUSE_PSEUDO = { src: 0xc0a86401, dst: 0xc0a8648a };

// shared/pcaps/retransmit-fast009.pcap frame 29, TCP segment (32 bytes), sent
// with checksum offload (checksum field 0): a duplicate ACK carrying one SACK block.
// deno-fmt-ignore
const SACK_ACK = new Uint8Array([
  0xc4, 0xc0, 0x00, 0x50, // ports 50368 > 80
  0x18, 0xb1, 0x97, 0x95, // seq
  0xfd, 0x48, 0xad, 0x76, // ack 4249398646
  0x80, 0x10, // data offset 8 (32 bytes), ACK
  0xff, 0xff, // window 65535
  0x00, 0x00, 0x00, 0x00, // checksum (offloaded), urgent pointer
  0x01, 0x01, // NOP NOP
  0x05, 0x0a, 0xfd, 0x48, 0xb3, 0x0c, 0xfd, 0x48, 0xb8, 0xa2, // SACK {4249400076:4249401506}
]);

function checked(bytes: Uint8Array): TcpPacket {
  const p = TcpPacket.check(bytes);
  assert.ok(typeof p !== "string", `check: ${p}`);
  return p;
}

Deno.test("TcpPacket deconstructs a Linux SYN", () => {
  const p = checked(LINUX_SYN);
  assert.equal(p.srcPort, 46970);
  assert.equal(p.dstPort, 8080);
  assert.equal(p.seqNumber, 2468760071);
  assert.equal(p.ackNumber, 0);
  assert.equal(p.dataOffset, 10);
  assert.equal(p.headerLength, 40);
  assert.equal(p.flags, TCP_SYN);
  assert.ok(p.syn && !p.ack && !p.fin && !p.rst && !p.psh && !p.urg);
  assert.equal(p.window, 64240);
  assert.equal(p.checksum, 0x71f2);
  assert.equal(p.urgentPointer, 0);
  assert.equal(p.options.length, 20);
  assert.equal(p.payload.length, 0);
  assert.equal(p.segmentLength, 1);
  assert.ok(p.verifyChecksum(LINUX_SYN_PSEUDO));
  const set = new TcpOptionSet();
  assert.ok(set.parse(p.options));
  assert.equal(set.mss, 1460);
  assert.ok(set.sackPermitted);
  assert.ok(set.hasTimestamp);
  assert.equal(set.tsVal, 3829345797);
  assert.equal(set.tsEcr, 0);
  assert.equal(set.windowScale, 10);
  assert.equal(set.sackCount, 0);
  assert.equal(
    p.toString(),
    "Flags [S], seq 2468760071, win 64240, options [mss 1460,sackOK,TS val 3829345797 ecr 0,nop,wscale 10], length 0",
  );
});

Deno.test("TcpPacket deconstructs a RST+ACK refusing a connection", () => {
  const p = checked(REFUSE_RST);
  assert.equal(p.flags, TCP_RST | TCP_ACK);
  assert.equal(p.ackNumber, 951057940);
  assert.equal(p.window, 0);
  assert.ok(p.verifyChecksum(REFUSE_PSEUDO));
  assert.equal(p.toString(), "Flags [R.], seq 0, ack 951057940, win 0, length 0");
});

Deno.test("TcpPacket deconstructs a SACK block", () => {
  const p = checked(SACK_ACK);
  const set = new TcpOptionSet();
  set.parse(p.options);
  assert.equal(set.sackCount, 1);
  assert.equal(set.sackBlocks[0], 4249400076);
  assert.equal(set.sackBlocks[1], 4249401506);
  assert.equal(
    p.toString(),
    "Flags [.], ack 4249398646, win 65535, options [nop,nop,sack 1 {4249400076:4249401506}], length 0",
  );
});

Deno.test("TcpPacket constructs the Linux SYN field by field", () => {
  const bytes = new Uint8Array(40);
  const p = TcpPacket.unchecked(bytes);
  p.srcPort = 46970;
  p.dstPort = 8080;
  p.seqNumber = 2468760071;
  p.ackNumber = 0;
  p.dataOffset = 10;
  p.flags = TCP_SYN;
  p.window = 64240;
  p.urgentPointer = 0;
  bytes.set(LINUX_SYN.subarray(20), 20);
  p.fillChecksum(LINUX_SYN_PSEUDO);
  assert.deepEqual(bytes, LINUX_SYN);
});

Deno.test("parseTcp() reads the Linux SYN into a Repr", () => {
  const r = parseTcp(checked(LINUX_SYN), LINUX_SYN_PSEUDO);
  assert.deepEqual(r, {
    srcPort: 46970,
    dstPort: 8080,
    seq: 2468760071,
    ack: 0,
    flags: TCP_SYN,
    window: 64240,
    payloadLength: 0,
    mss: 1460,
    sackPermitted: true,
    timestamp: { value: 3829345797, echo: 0 },
    windowScale: 10,
  });
});

Deno.test("parseTcp() rejects a bad checksum unless told not to verify", () => {
  const p = checked(SACK_ACK);
  assert.equal(parseTcp(p, { src: 0x0a005855, dst: 0xc0a8001b }), "bad_checksum");
  const r = parseTcp(p, { src: 0, dst: 0 }, { verifyChecksum: false });
  assert.ok(typeof r !== "string");
  assert.deepEqual(r.sackBlocks, [[4249400076, 4249401506]]);
});

Deno.test("emitTcp() writes the Linux SYN byte for byte (Linux option layout)", () => {
  const repr: TcpRepr = {
    srcPort: 46970,
    dstPort: 8080,
    seq: 2468760071,
    ack: 0,
    flags: TCP_SYN,
    window: 64240,
    payloadLength: 0,
    mss: 1460,
    sackPermitted: true,
    timestamp: { value: 3829345797, echo: 0 },
    windowScale: 10,
  };
  assert.equal(tcpHeaderLength(repr), 40);
  const bytes = new Uint8Array(40);
  emitTcp(repr, bytes, LINUX_SYN_PSEUDO);
  assert.deepEqual(bytes, LINUX_SYN);
  assert.equal(formatTcpRepr(repr), checked(bytes).toString());
});

Deno.test("emitTcp() writes the RST+ACK byte for byte", () => {
  const bytes = new Uint8Array(20);
  emitTcp(
    {
      srcPort: 80,
      dstPort: 3372,
      seq: 0,
      ack: 951057940,
      flags: TCP_RST | TCP_ACK,
      window: 0,
      payloadLength: 0,
    },
    bytes,
    REFUSE_PSEUDO,
  );
  assert.deepEqual(bytes, REFUSE_RST);
});

Deno.test("emitTcp() writes SACK blocks after nop,nop and a payload after the header", () => {
  const repr: TcpRepr = {
    srcPort: 1,
    dstPort: 2,
    seq: 0xfffffffe,
    ack: 7,
    flags: TCP_ACK | TCP_PSH | TCP_FIN,
    window: 100,
    payloadLength: 4,
    timestamp: { value: 5, echo: 6 },
    sackBlocks: [[10, 20], [30, 40], [50, 60]],
  };
  const hl = tcpHeaderLength(repr);
  assert.equal(hl, 20 + 12 + 4 + 24);
  const bytes = new Uint8Array(hl + 4);
  emitTcp(repr, bytes, { src: 1, dst: 2, payload: new Uint8Array([1, 2, 3, 4]) });
  const p = checked(bytes);
  assert.ok(p.verifyChecksum({ src: 1, dst: 2 }));
  assert.deepEqual([...p.payload], [1, 2, 3, 4]);
  assert.equal(p.segmentLength, 5);
  assert.equal(
    p.toString(),
    "Flags [FP.], seq 4294967294:2, ack 7, win 100, options [nop,nop,TS val 5 ecr 6,nop,nop,sack 3 {10:20}{30:40}{50:60}], length 4",
  );
  assert.deepEqual(parseTcp(p, { src: 1, dst: 2 }), repr);
});

Deno.test("tcpHeaderLength() refuses options over 40 bytes", () => {
  assert.throws(
    () =>
      tcpHeaderLength({
        srcPort: 0,
        dstPort: 0,
        seq: 0,
        ack: 0,
        flags: 0,
        window: 0,
        payloadLength: 0,
        timestamp: { value: 0, echo: 0 },
        sackBlocks: [[0, 0], [0, 0], [0, 0], [0, 0]],
      }),
    RangeError,
  );
});

Deno.test("TcpPacket.check() rejects every truncation of every fixture, never throwing", () => {
  for (const fixture of [LINUX_SYN, REFUSE_RST, SACK_ACK]) {
    const hl = (fixture[12]! >> 4) * 4;
    for (let n = 0; n < fixture.length; n++) {
      const r = TcpPacket.check(fixture.subarray(0, n));
      if (n < hl) assert.equal(r, "truncated", `prefix ${n}`);
      else assert.ok(typeof r !== "string");
      if (typeof r !== "string") {
        parseTcp(r, { src: 0, dst: 0 });
        r.toString();
      }
    }
  }
});

Deno.test("TcpOptionSet skips unknown options and ignores known ones of the wrong length", () => {
  const set = new TcpOptionSet();
  // opt-254 (len 4), MSS with length 3 (ignored), wscale 7, EOL, then junk
  const ok = set.parse(new Uint8Array([254, 4, 0xaa, 0xbb, 2, 3, 5, 1, 3, 3, 7, 0, 2, 4, 1, 1]));
  assert.ok(ok);
  assert.equal(set.unknown, 1);
  assert.equal(set.mss, -1);
  assert.equal(set.windowScale, 7);
  assert.equal(
    formatTcpOptions(new Uint8Array([254, 4, 0xaa, 0xbb, 1, 0])),
    "opt-254:aabb,nop,eol",
  );
});

Deno.test("TcpOptionSet stops at a zero or overlong length and keeps what it read", () => {
  const set = new TcpOptionSet();
  assert.equal(set.parse(new Uint8Array([2, 4, 5, 180, 8, 0, 1, 1])), false);
  assert.ok(set.malformed);
  assert.equal(set.mss, 1460);
  assert.equal(set.parse(new Uint8Array([1, 1, 3, 9, 7])), false);
  assert.equal(set.parse(new Uint8Array([1, 2])), false);
  assert.equal(formatTcpOptions(new Uint8Array([2, 4, 5, 180, 8, 0])), "mss 1460,[bad opt]");
  assert.equal(readTcpOption(new Uint8Array([TCP_OPT_MSS]), 0), "bad_option");
});

Deno.test("TcpPacket and options survive arbitrary bytes without throwing", () => {
  const set = new TcpOptionSet();
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 80 }), fc.nat(), fc.nat(), (bytes, src, dst) => {
      set.parse(bytes);
      formatTcpOptions(bytes);
      describeTcpSegment(bytes, "a", "b");
      const p = TcpPacket.check(bytes);
      if (typeof p === "string") return;
      assert.ok(p.headerLength >= TCP_HEADER_LEN && p.headerLength <= bytes.length);
      set.parse(p.options);
      assert.ok(set.sackCount <= 4);
      const r = parseTcp(p, { src, dst }, { verifyChecksum: false });
      assert.ok(typeof r !== "string");
      p.toString();
    }),
    { numRuns: 2000, seed: 6 },
  );
});

Deno.test("emitTcp() then parseTcp() round-trips any Repr", () => {
  const u32 = fc.integer({ min: 0, max: 0xffffffff });
  const repr = fc.record({
    srcPort: fc.integer({ min: 0, max: 65535 }),
    dstPort: fc.integer({ min: 0, max: 65535 }),
    seq: u32,
    ack: u32,
    flags: fc.integer({ min: 0, max: 0x1ff }).filter((f) => (f & 0x20) === 0),
    window: fc.integer({ min: 0, max: 65535 }),
    payloadLength: fc.integer({ min: 0, max: 64 }),
    mss: fc.option(fc.integer({ min: 0, max: 65535 }), { nil: undefined }),
    windowScale: fc.option(fc.integer({ min: 0, max: 14 }), { nil: undefined }),
    sackPermitted: fc.option(fc.constant(true as const), { nil: undefined }),
    timestamp: fc.option(fc.record({ value: u32, echo: u32 }), { nil: undefined }),
  }, { requiredKeys: ["srcPort", "dstPort", "seq", "ack", "flags", "window", "payloadLength"] });
  fc.assert(
    fc.property(repr, (r) => {
      const clean = Object.fromEntries(
        Object.entries(r).filter(([, v]) => v !== undefined),
      ) as unknown as TcpRepr;
      const bytes = new Uint8Array(tcpHeaderLength(clean) + clean.payloadLength);
      emitTcp(clean, bytes, { src: 7, dst: 9 });
      const p = checked(bytes);
      assert.deepEqual(parseTcp(p, { src: 7, dst: 9 }), clean);
      assert.equal(p.toString(), formatTcpRepr(clean));
    }),
    { numRuns: 500, seed: 9 },
  );
});

Deno.test("describeTcpSegment() prints tcpdump's address.port prefix", () => {
  assert.equal(
    describeTcpSegment(REFUSE_RST, "192.168.100.1", "192.168.100.138"),
    "192.168.100.1.80 > 192.168.100.138.3372: Flags [R.], seq 0, ack 951057940, win 0, length 0",
  );
  assert.equal(
    describeTcpSegment(REFUSE_RST.subarray(0, 10), "1.1.1.1", "2.2.2.2"),
    "1.1.1.1.80 > 2.2.2.2.3372: [|tcp]",
  );
});

Deno.test("formatTcpRepr() prints the brief's SYN-ACK", () => {
  assert.equal(
    formatTcpRepr({
      srcPort: 1,
      dstPort: 2,
      seq: 1,
      ack: 2,
      flags: TCP_SYN | TCP_ACK,
      window: 65535,
      payloadLength: 0,
      mss: 1460,
      sackPermitted: true,
      timestamp: { value: 1, echo: 0 },
      windowScale: 7,
    }),
    "Flags [S.], seq 1, ack 2, win 65535, options [mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7], length 0",
  );
  assert.equal(
    formatTcpRepr({
      srcPort: 1,
      dstPort: 2,
      seq: 9,
      ack: 0,
      flags: TCP_FIN,
      window: 1,
      payloadLength: 0,
    }),
    "Flags [F], seq 9, win 1, length 0",
  );
});
