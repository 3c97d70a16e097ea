/**
 * The capture reader against the capture fixtures (counts from INDEX.md /
 * `capinfos -c`, timestamps from `tshark -T fields -e frame.time_epoch`),
 * and against hand-built big-endian, nanosecond and multi-interface files.
 */
import assert from "node:assert/strict";
import {
  CaptureParser,
  CaptureReader,
  CaptureReaderSync,
  type CaptureRecord,
  DIRECTION_INBOUND,
  DIRECTION_OUTBOUND,
  DIRECTION_UNKNOWN,
  parseCapture,
} from "./mod.ts";
import { concat, epb, idb, opt, pcapFile, shb, spb, split64 } from "./_testing.ts";
import { gated } from "../../tests/_require.ts";

// The repository's capture fixtures (tests/fixtures/pcaps, see its INDEX.md).
const CORPUS = new URL("../../tests/fixtures/pcaps/", import.meta.url);
const PROBES = new URL("linux-probes/", CORPUS);

/** [file, format, link type, packets] from INDEX.md ("Pkts" is `capinfos -c`). */
const EXPECTED: readonly [string, "pcap" | "pcapng", number, number][] = [
  ["arp_resolution.pcapng", "pcapng", 1, 2],
  ["arp_gratuitous.pcapng", "pcapng", 1, 1],
  ["icmp_echo.pcapng", "pcapng", 1, 8],
  ["icmp-destunreach-udp.pcap", "pcap", 1, 1],
  ["icmp_traceroute.pcapng", "pcapng", 1, 54],
  ["smtp-icmp-fragneeded.pcap", "pcap", 1, 125],
  ["ip_frag_source.pcapng", "pcapng", 1, 6],
  ["ipv4-fragmented-4-overlap.pcap", "pcap", 1, 6],
  ["icmpv6_neighbor_solicitation.pcapng", "pcapng", 1, 7],
  ["ipv6_fragments.pcapng", "pcapng", 1, 22],
  ["icmpv6.pcap", "pcap", 1, 5],
  ["IGMP_V2.pcap", "pcap", 1, 18],
  ["igmp-v3-v2-reports.pcap", "pcap", 1, 12],
  ["dns_query_response.pcapng", "pcapng", 1, 2],
  ["print-flags.pcap", "pcap", 1, 10],
  ["http_ip4and6.pcapng", "pcapng", 1, 20],
  ["retransmit-fast009.pcap", "pcap", 1, 39],
  ["tcp_refuseconnection.pcapng", "pcapng", 1, 2],
  ["ipv4_invalid_total_length.pcap", "pcap", 1, 1],
  ["ip4-trunc.pcap", "pcap", 1, 1],
  ["tcp-malformed.pcap", "pcap", 1, 2],
  ["ip4-tcp-bad-chksum.pcap", "pcap", 1, 1],
  ["raw_ip.pcap", "pcap", 101, 100],
  ["LINKTYPE_IPV4.pcap", "pcap", 228, 1],
  // linux-probes/ (counts from `capinfos -c`; tun = RAW 101, tap = ETHERNET 1)
  ["linux-probes/tap-arping.pcap", "pcap", 1, 10],
  ["linux-probes/tap-arpingU.pcap", "pcap", 1, 5],
  ["linux-probes/tap-ping6tap.pcap", "pcap", 1, 6],
  ["linux-probes/tun-curl4.pcap", "pcap", 101, 3],
  ["linux-probes/tun-curl6.pcap", "pcap", 101, 3],
  ["linux-probes/tun-hping_all.pcap", "pcap", 101, 2],
  ["linux-probes/tun-hping_frag.pcap", "pcap", 101, 8],
  ["linux-probes/tun-hping_null.pcap", "pcap", 101, 3],
  ["linux-probes/tun-hping_synfin.pcap", "pcap", 101, 3],
  ["linux-probes/tun-hping_xmas.pcap", "pcap", 101, 3],
  ["linux-probes/tun-iperf3.pcap", "pcap", 101, 3],
  ["linux-probes/tun-nc100.pcap", "pcap", 101, 3],
  ["linux-probes/tun-nmapO.pcap", "pcap", 101, 53],
  ["linux-probes/tun-nmapsS.pcap", "pcap", 101, 8],
  ["linux-probes/tun-nmapsU.pcap", "pcap", 101, 12],
  ["linux-probes/tun-ping4.pcap", "pcap", 101, 5],
  ["linux-probes/tun-ping6.pcap", "pcap", 101, 4],
  ["linux-probes/tun-scapy_badsum.pcap", "pcap", 101, 2],
  ["linux-probes/tun-scapy_ext6.pcap", "pcap", 101, 1],
  ["linux-probes/tun-scapy_overlap.pcap", "pcap", 101, 3],
];

/** [file, frame number, frame.time_epoch, frame.len, frame.cap_len] from tshark 4.0.17. */
const FRAMES: readonly [string, number, string, number, number][] = [
  ["arp_resolution.pcapng", 1, "1165780762.880651000", 42, 42],
  ["arp_resolution.pcapng", 2, "1165780762.884732000", 46, 46],
  ["icmp_traceroute.pcapng", 53, "1246563758.815784000", 106, 106],
  ["http_ip4and6.pcapng", 11, "1448215096.399450000", 94, 94],
  ["raw_ip.pcap", 1, "1147551795.526632000", 80, 80],
  ["raw_ip.pcap", 53, "1488848069.777235000", 52, 52],
  ["raw_ip.pcap", 100, "1488848077.767141000", 40, 40],
  ["retransmit-fast009.pcap", 4, "1285862902.901730000", 528, 54],
  ["retransmit-fast009.pcap", 39, "1285862963.692041000", 54, 54],
  ["ip4-trunc.pcap", 1, "1334160095.895421000", 46, 20],
  ["smtp-icmp-fragneeded.pcap", 64, "1437831787.861602000", 74, 74],
  ["LINKTYPE_IPV4.pcap", 1, "1751997572.592885000", 57, 57],
  ["linux-probes/tun-nmapO.pcap", 20, "1795311485.525544000", 60, 60],
];

function read(name: string): Uint8Array {
  return Deno.readFileSync(new URL(name, CORPUS));
}

/** Parses "s.fffffffff" into [seconds, nanoseconds]. */
function epoch(s: string): [number, number] {
  const [sec, frac = ""] = s.split(".");
  return [Number(sec), Number(frac.padEnd(9, "0"))];
}

Deno.test({
  name: "parseCapture() reads every corpus file with the capinfos packet count and link type",
  fn() {
    const listed = new Set(EXPECTED.map((e) => e[0]));
    for (const dir of [CORPUS, PROBES]) {
      for (const e of Deno.readDirSync(dir)) {
        if (!/\.pcap(ng)?$/.test(e.name)) continue;
        const name = dir === PROBES ? `linux-probes/${e.name}` : e.name;
        assert.ok(listed.has(name), `${name} is not in the expected table`);
      }
    }
    for (const [name, format, linkType, count] of EXPECTED) {
      const r = parseCapture(read(name));
      assert.equal(r.error, null, `${name}: ${r.error?.message}`);
      assert.deepEqual(r.warnings, [], name);
      assert.equal(r.format, format, name);
      assert.equal(r.records.length, count, name);
      for (const [i, rec] of r.records.entries()) {
        assert.equal(rec.index, i + 1);
        assert.equal(rec.linkType, linkType, name);
        assert.equal(rec.interfaceId, 0);
        assert.ok(Number.isSafeInteger(rec.timestamp));
        assert.ok(rec.data.length <= rec.originalLength, `${name} #${rec.index}`);
      }
    }
  },
});

Deno.test({
  name: "parseCapture() timestamps and lengths match tshark frame fields",
  fn() {
    for (const [name, frame, time, len, caplen] of FRAMES) {
      const rec = parseCapture(read(name)).records[frame - 1]!;
      const [sec, ns] = epoch(time);
      assert.equal(rec.seconds, sec, `${name} #${frame}`);
      assert.equal(rec.nanoseconds, ns, `${name} #${frame}`);
      assert.equal(rec.timestamp, sec * 1e6 + ns / 1000);
      assert.equal(rec.originalLength, len);
      assert.equal(rec.data.length, caplen);
    }
  },
});

Deno.test({
  name: "parseCapture() returns captured bytes and file offsets of a truncated frame",
  fn() {
    const bytes = read("ip4-trunc.pcap");
    const [rec] = parseCapture(bytes).records;
    assert.ok(rec);
    assert.equal(rec.fileOffset, 24);
    // tshark -x: 00 10 db 88 d2 ef c8 bc c8 96 d2 a0 08 00 45 00 00 20 00 01
    assert.deepEqual(
      [...rec.data],
      [
        0x00,
        0x10,
        0xdb,
        0x88,
        0xd2,
        0xef,
        0xc8,
        0xbc,
        0xc8,
        0x96,
        0xd2,
        0xa0,
        0x08,
        0x00,
        0x45,
        0x00,
        0x00,
        0x20,
        0x00,
        0x01,
      ],
    );
    assert.equal(rec.originalLength, 46);
    assert.equal(rec.data.buffer, bytes.buffer); // a view, not a copy
  },
});

Deno.test(gated(["tshark"], {
  name: "parseCapture() matches tshark on every frame of every corpus file",
  async fn() {
    await Promise.all(EXPECTED.map(async ([name]) => {
      const path = new URL(name, CORPUS).pathname;
      const out = await new Deno.Command("tshark", {
        args: [
          "-r",
          path,
          "-T",
          "fields",
          "-e",
          "frame.time_epoch",
          "-e",
          "frame.len",
          "-e",
          "frame.cap_len",
        ],
        stdout: "piped",
        stderr: "null",
      }).output();
      assert.equal(out.code, 0);
      const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
      const records = parseCapture(read(name)).records;
      assert.equal(records.length, lines.length, name);
      for (const [i, line] of lines.entries()) {
        const [time, len, caplen] = line.split("\t");
        const rec = records[i]!;
        assert.deepEqual([rec.seconds, rec.nanoseconds], epoch(time!), `${name} #${i + 1}`);
        assert.equal(rec.originalLength, Number(len));
        assert.equal(rec.data.length, Number(caplen));
      }
    }));
  },
}));

function same(a: readonly CaptureRecord[], b: readonly CaptureRecord[], what: string): void {
  assert.equal(a.length, b.length, what);
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    assert.deepEqual({ ...x, data: [...x.data] }, { ...y, data: [...y.data] }, `${what} #${i + 1}`);
  }
}

Deno.test({
  name: "CaptureReaderSync and CaptureReader stream corpus files in small chunks like parseCapture",
  async fn() {
    for (const [name] of EXPECTED) {
      const whole = parseCapture(read(name)).records;
      const sync = CaptureReaderSync.open(new URL(name, CORPUS), { chunkSize: 7 });
      same([...sync], whole, `${name} sync`);
      assert.equal(sync.error, null);
      const reader = await CaptureReader.open(new URL(name, CORPUS), { chunkSize: 61 });
      const got = [];
      for await (const r of reader) got.push(r);
      same(got, whole, `${name} async`);
      assert.equal(reader.error, null);
    }
  },
});

Deno.test({
  name: "CaptureReader reads a ReadableStream and a Deno.FsFile it does not own",
  async fn() {
    const url = new URL("icmp_traceroute.pcapng", CORPUS);
    const file = await Deno.open(url);
    const fromStream = new CaptureReader(file.readable);
    const got: CaptureRecord[] = [];
    for await (const r of fromStream) got.push(r);
    same(got, parseCapture(read("icmp_traceroute.pcapng")).records, "file.readable");
    using f2 = await Deno.open(url);
    const fromFile = new CaptureReader(f2, { chunkSize: 1000 });
    const first = await fromFile.next();
    assert.equal(first?.index, 1);
    await fromFile.close(); // stop early: later next() calls return null
    assert.equal(await fromFile.next(), null);
    assert.equal(fromFile.count, 1);
  },
});

// --- hand-built classic pcap -------------------------------------------------

const FRAME_A = new Uint8Array([0x45, 0, 0, 20, 1, 2, 3, 4]);
const FRAME_B = new Uint8Array(300).map((_, i) => i & 0xff);

Deno.test("parseCapture() reads big-endian and little-endian, micro and nano pcap alike", () => {
  for (const le of [true, false]) {
    for (const nano of [false, true]) {
      const file = pcapFile({ le, nano, linkType: 101 }, [
        { seconds: 1_700_000_000, fraction: nano ? 123_456_789 : 123_456, data: FRAME_A },
        {
          seconds: 4_000_000_000,
          fraction: nano ? 999_999_999 : 999_999,
          data: FRAME_B,
          originalLength: 1500,
        },
      ]);
      const what = `le=${le} nano=${nano}`;
      const r = parseCapture(file);
      assert.equal(r.error, null, what);
      assert.equal(r.interfaces[0]!.tsresol, nano ? 9 : 6);
      const [a, b] = r.records;
      assert.ok(a && b);
      assert.equal(a.linkType, 101);
      assert.equal(a.seconds, 1_700_000_000);
      assert.equal(a.nanoseconds, nano ? 123_456_789 : 123_456_000, what);
      assert.equal(a.timestamp, 1_700_000_000_123_456);
      assert.deepEqual(a.data, FRAME_A);
      assert.equal(b.seconds, 4_000_000_000); // unsigned 32-bit seconds (after 2038)
      assert.equal(b.timestamp, 4_000_000_000_999_999);
      assert.deepEqual(b.data, FRAME_B);
      assert.equal(b.originalLength, 1500);
      assert.equal(b.fileOffset, 24 + 16 + FRAME_A.length);
    }
  }
});

Deno.test("parseCapture() passes unknown link types through and masks pcap FCS bits", () => {
  const file = pcapFile({ le: true, nano: false, linkType: 0x1000_0000 | 147 }, [
    { seconds: 1, fraction: 0, data: FRAME_A },
  ]);
  assert.equal(parseCapture(file).records[0]!.linkType, 147);
});

Deno.test("parseCapture() carries a microsecond fraction of 1e6 or more into the seconds", () => {
  const file = pcapFile({ le: true, nano: false, linkType: 1 }, [{
    seconds: 5,
    fraction: 1_500_000,
    data: FRAME_A,
  }]);
  const rec = parseCapture(file).records[0]!;
  assert.deepEqual([rec.seconds, rec.nanoseconds, rec.timestamp], [6, 500_000_000, 6_500_000]);
});

Deno.test("parseCapture() rejects unknown magic, modified pcap and pcap version 3 with offset 0", () => {
  const text = parseCapture(new TextEncoder().encode("GET / HTTP/1.1\r\n\r\n"));
  assert.equal(text.error?.code, "bad_magic");
  assert.equal(text.format, null);
  const modified = new Uint8Array(24);
  new DataView(modified.buffer).setUint32(0, 0xa1b2cd34, true);
  assert.match(parseCapture(modified).error!.message, /modified pcap is not supported/);
  const v3 = parseCapture(pcapFile({ le: true, nano: false, linkType: 1, major: 3 }, []));
  assert.equal(v3.error?.code, "unsupported_version");
  assert.equal(v3.error?.offset, 0);
  assert.equal(v3.error?.fatal, true);
});

Deno.test("parseCapture() refuses a pcap caplen above maxCaplen without waiting for the bytes", () => {
  const file = pcapFile({ le: true, nano: false, linkType: 1 }, [
    { seconds: 1, fraction: 0, data: FRAME_A },
    { seconds: 2, fraction: 0, data: FRAME_A, caplen: 0xfffffff0 },
  ]);
  const r = parseCapture(file);
  assert.equal(r.records.length, 1);
  assert.equal(r.error?.code, "caplen_too_large");
  assert.equal(r.error?.offset, 24 + 16 + FRAME_A.length);
  // The limit is an option: 8-byte frames pass a limit of 8, not of 7.
  assert.equal(parseCapture(file.subarray(0, 48), { maxCaplen: 8 }).error, null);
  assert.equal(
    parseCapture(file.subarray(0, 48), { maxCaplen: 7 }).error?.code,
    "caplen_too_large",
  );
});

Deno.test("CaptureParser rejects out-of-range limits", () => {
  assert.throws(() => new CaptureParser({ maxBlockLength: 512 * 1024 * 1024 }), RangeError);
  assert.throws(() => new CaptureParser({ maxCaplen: 0 }), RangeError);
  assert.throws(() => new CaptureReaderSync(new Uint8Array(0), { chunkSize: 0 }), RangeError);
});

// --- hand-built pcapng -------------------------------------------------------

const TS = split64(1_700_000_000_123_456n); // microseconds (default if_tsresol)

function flags(le: boolean, value: number): Uint8Array {
  const v = new Uint8Array(4);
  new DataView(v.buffer).setUint32(0, value, le);
  return opt(le, 2, v);
}

function unknownBlock(le: boolean, type: number): Uint8Array {
  const b = new Uint8Array(20);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, type, le);
  dv.setUint32(4, 20, le);
  b.fill(0xee, 8, 16);
  dv.setUint32(16, 20, le);
  return b;
}

Deno.test("parseCapture() reads a pcapng with two interfaces of different link types, in both byte orders", () => {
  for (const le of [true, false]) {
    const file = concat(
      shb(le),
      idb(le, 1, { options: [opt(le, 2, new TextEncoder().encode("eth0"))] }),
      idb(le, 101, { snaplen: 65535 }),
      epb(le, { interfaceId: 0, ...TS, data: FRAME_B.subarray(0, 60) }),
      unknownBlock(le, 0x40000bad),
      unknownBlock(le, 0x12345678),
      epb(le, {
        interfaceId: 1,
        ...TS,
        data: FRAME_A,
        originalLength: 40,
        options: [flags(le, 1)],
      }),
      epb(le, { interfaceId: 1, ...TS, data: FRAME_A, options: [flags(le, 2)], type: 2 }),
    );
    const p = new CaptureParser();
    p.push(file);
    p.end();
    const records = [];
    for (let r = p.next(); r; r = p.next()) records.push(r);
    assert.equal(p.error, null);
    assert.equal(p.littleEndian, le);
    assert.equal(p.skippedBlocks, 2);
    assert.deepEqual(records.map((r) => [r.linkType, r.interfaceId, r.direction]), [
      [1, 0, DIRECTION_UNKNOWN],
      [101, 1, DIRECTION_INBOUND],
      [101, 1, DIRECTION_OUTBOUND], // obsolete Packet Block
    ]);
    assert.deepEqual(records[0]!.data, FRAME_B.subarray(0, 60));
    assert.equal(records[1]!.timestamp, 1_700_000_000_123_456);
    assert.equal(records[1]!.originalLength, 40);
    assert.equal(p.interfaces[0]!.name, "eth0");
    assert.equal(p.interfaces[1]!.snaplen, 65535);
  }
});

Deno.test("parseCapture() numbers interfaces across sections of different byte orders", () => {
  const file = concat(
    shb(true),
    idb(true, 1),
    epb(true, { interfaceId: 0, ...TS, data: FRAME_A }),
    shb(false),
    idb(false, 228),
    idb(false, 229),
    epb(false, { interfaceId: 1, ...TS, data: FRAME_A }),
    epb(false, { interfaceId: 0, ...TS, data: FRAME_A }),
  );
  const r = parseCapture(file);
  assert.equal(r.error, null);
  assert.deepEqual(r.records.map((x) => [x.interfaceId, x.linkType]), [[0, 1], [2, 229], [1, 228]]);
  assert.deepEqual(r.interfaces.map((i) => [i.id, i.section, i.localId]), [[0, 0, 0], [1, 1, 0], [
    2,
    1,
    1,
  ]]);
});

Deno.test("parseCapture() applies if_tsresol (nanoseconds, milliseconds, 2^-20) and if_tsoffset", () => {
  const le = true;
  const tsoffset = new Uint8Array(8);
  new DataView(tsoffset.buffer).setBigInt64(0, 1000n, le);
  const file = concat(
    shb(le),
    idb(le, 1, { options: [opt(le, 9, new Uint8Array([9]))] }),
    idb(le, 1, { options: [opt(le, 9, new Uint8Array([3])), opt(le, 14, tsoffset)] }),
    idb(le, 1, { options: [opt(le, 9, new Uint8Array([0x80 | 20]))] }),
    epb(le, { interfaceId: 0, ...split64(1_700_000_000_123_456_789n), data: FRAME_A }),
    epb(le, { interfaceId: 1, ...split64(1_700_000_000_123n), data: FRAME_A }),
    epb(le, { interfaceId: 2, ...split64((5n << 20n) + (1n << 19n)), data: FRAME_A }),
  );
  const [ns, ms, bin] = parseCapture(file).records;
  assert.deepEqual([ns!.seconds, ns!.nanoseconds, ns!.timestamp], [
    1_700_000_000,
    123_456_789,
    1_700_000_000_123_456,
  ]);
  assert.deepEqual([ms!.seconds, ms!.nanoseconds], [1_700_000_000 + 1000, 123_000_000]);
  assert.deepEqual([bin!.seconds, bin!.nanoseconds, bin!.timestamp], [5, 500_000_000, 5_500_000]);
});

Deno.test("parseCapture() skips a packet whose timestamp is beyond integer microseconds", () => {
  const le = true;
  const file = concat(
    shb(le),
    idb(le, 1, { options: [opt(le, 9, new Uint8Array([0]))] }), // whole seconds
    epb(le, { interfaceId: 0, high: 0xffffffff, low: 0, data: FRAME_A }),
    epb(le, { interfaceId: 0, high: 0, low: 1_700_000_000, data: FRAME_A }),
  );
  const r = parseCapture(file);
  assert.deepEqual(r.warnings.map((w) => w.code), ["bad_timestamp"]);
  assert.deepEqual(r.records.map((x) => x.timestamp), [1_700_000_000_000_000]);
});

Deno.test("parseCapture() reads a Simple Packet Block on interface 0, cut to its snaplen", () => {
  const le = false;
  const file = concat(shb(le), idb(le, 1, { snaplen: 10 }), spb(le, 60, FRAME_B.subarray(0, 60)));
  const [rec] = parseCapture(file).records;
  assert.deepEqual(rec?.data, FRAME_B.subarray(0, 10));
  assert.equal(rec?.originalLength, 60);
  assert.equal(rec?.timestamp, 0);
});

Deno.test("parseCapture() skips bad packet blocks of sane length with warnings and reads on", () => {
  const le = true;
  const good = epb(le, { interfaceId: 0, ...TS, data: FRAME_A });
  const unknownIf = epb(le, { interfaceId: 7, ...TS, data: FRAME_A });
  const overrun = epb(le, { interfaceId: 0, ...TS, data: FRAME_A, caplen: 400 });
  const short = unknownBlock(le, 6); // an EPB of 20 bytes
  const badOpt = epb(le, { interfaceId: 0, ...TS, data: FRAME_A, options: [flags(le, 1)] });
  new DataView(badOpt.buffer).setUint16(28 + 8 + 2, 200, le); // option length overruns
  const head = concat(shb(le), idb(le, 1));
  const parts = [head, good, unknownIf, overrun, short, badOpt, good];
  const file = concat(...parts);
  const seen: string[] = [];
  const r = parseCapture(file, { onWarning: (w) => seen.push(w.code) });
  assert.equal(r.error, null);
  assert.equal(r.records.length, 3); // good, badOpt (options ignored), good
  assert.deepEqual(seen, ["unknown_interface", "bad_caplen", "bad_block", "bad_options"]);
  let at = head.length + good.length;
  assert.equal(r.warnings[0]!.offset, at);
  assert.equal(r.warnings[0]!.fatal, false);
  assert.match(r.warnings[0]!.message, new RegExp(`byte ${at}: .*interface 7`));
  at += unknownIf.length;
  assert.equal(r.warnings[1]!.offset, at);
  assert.deepEqual(r.records.map((x) => x.index), [1, 2, 3]);
  // maxWarnings bounds what is kept, not what is counted.
  const p = new CaptureParser({ maxWarnings: 1 });
  p.push(file);
  p.end();
  while (p.next()) { /* drain */ }
  assert.equal(p.warnings.length, 1);
  assert.equal(p.warningCount, 4);
});

Deno.test("parseCapture() stops with an offset on corrupt pcapng framing", () => {
  const le = true;
  const head = concat(shb(le), idb(le, 1));
  const good = epb(le, { interfaceId: 0, ...TS, data: FRAME_A });
  const cases: [Uint8Array, string, number][] = [
    [
      concat(head, good, unknownBlock(le, 6).map((b, i) => (i === 16 ? 0x24 : b))),
      "bad_block_length",
      head.length + good.length,
    ],
    [
      concat(head, good, new Uint8Array([6, 0, 0, 0, 13, 0, 0, 0])),
      "bad_block_length",
      head.length + good.length,
    ],
    [
      concat(head, new Uint8Array([6, 0, 0, 0, 0xfc, 0xff, 0xff, 0x7f])),
      "block_too_large",
      head.length,
    ],
    [concat(shb(le, { bom: 0x11223344 })), "bad_byte_order", 0],
    [concat(head, shb(le, { major: 2 })), "unsupported_version", head.length],
  ];
  // An Interface Description Block of 16 bytes (20 is the minimum).
  const shortIdb = new Uint8Array(16);
  const dv = new DataView(shortIdb.buffer);
  dv.setUint32(0, 1, le);
  dv.setUint32(4, 16, le);
  dv.setUint32(12, 16, le);
  cases.push([concat(shb(le), shortIdb), "bad_block", 28]);
  for (const [file, code, offset] of cases) {
    const r = parseCapture(file);
    assert.equal(r.error?.code, code, code);
    assert.equal(r.error?.offset, offset, code);
    assert.match(r.error!.message, new RegExp(`^Cannot read capture at byte ${offset}: `));
  }
});

// --- truncation and streaming sweeps -----------------------------------------

function sweepFiles(): [string, Uint8Array][] {
  const files: [string, Uint8Array][] = [
    ["synth pcapng", twoInterfacesFile()],
    [
      "synth BE nano pcap",
      pcapFile({ le: false, nano: true, linkType: 1 }, [
        { seconds: 1, fraction: 2, data: FRAME_A },
        { seconds: 3, fraction: 4, data: FRAME_A },
      ]),
    ],
  ];
  {
    for (
      const name of [
        "arp_resolution.pcapng",
        "ip4-trunc.pcap",
        "LINKTYPE_IPV4.pcap",
        "dns_query_response.pcapng",
      ]
    ) {
      files.push([name, read(name)]);
    }
  }
  return files;
}

function twoInterfacesFile(): Uint8Array {
  const le = false;
  return concat(
    shb(le),
    idb(le, 1),
    epb(le, { interfaceId: 0, ...TS, data: FRAME_A }),
    unknownBlock(le, 5),
    idb(le, 101),
    epb(le, { interfaceId: 1, ...TS, data: FRAME_A }),
  );
}

Deno.test("parseCapture() gives records and a clean truncated error for every prefix", () => {
  for (const [name, file] of sweepFiles()) {
    const full = parseCapture(file);
    assert.equal(full.error, null, name);
    let clean = 0;
    for (let n = 0; n < file.length; n++) {
      const what = `${name}[0..${n}]`;
      const r = parseCapture(file.subarray(0, n));
      const k = r.records.length;
      same(r.records, full.records.slice(0, k), what);
      const next = full.records[k];
      if (r.error === null) {
        // The prefix ends between two blocks / records: a valid, shorter capture.
        clean++;
        assert.ok(n >= 24, what);
        assert.ok(next === undefined || next.fileOffset >= n, what);
        continue;
      }
      assert.equal(r.error.code, "truncated", what);
      assert.ok(r.error.offset < n || n === 0, what);
      if (next && n >= 24) assert.ok(r.error.offset <= next.fileOffset, what);
      if (k > 0) {
        const last = full.records[k - 1]!;
        assert.ok(r.error.offset >= last.fileOffset + 16 + last.data.length, what);
      }
    }
    assert.ok(clean < file.length / 8, `${name}: ${clean} clean prefixes`);
  }
});

Deno.test("CaptureParser gives the same records for any chunking of the input", () => {
  for (const [name, file] of sweepFiles()) {
    const full = parseCapture(file).records;
    for (const size of [1, 2, 3, 5, 8, 13, 64]) {
      const p = new CaptureParser();
      const got: CaptureRecord[] = [];
      for (let i = 0; i <= file.length; i += size) {
        for (let r = p.next(); r; r = p.next()) got.push(r);
        assert.equal(p.needsInput, true);
        p.push(file.slice(i, i + size));
      }
      p.end();
      for (let r = p.next(); r; r = p.next()) got.push(r);
      assert.equal(p.error, null, `${name} by ${size}`);
      assert.equal(p.done, true);
      same(got, full, `${name} by ${size}`);
    }
  }
});

Deno.test("CaptureReaderSync reports a truncated file through error, after the whole records", () => {
  const file = twoInterfacesFile();
  const reader = new CaptureReaderSync([file.subarray(0, 50), file.subarray(50, file.length - 3)]);
  const records = [...reader];
  assert.equal(records.length, 1);
  assert.equal(reader.error?.code, "truncated");
  assert.match(reader.error!.message, /file ends inside the block of type 0x00000006/);
});
