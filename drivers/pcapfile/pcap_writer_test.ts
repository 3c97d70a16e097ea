import assert from "node:assert/strict";
import fc from "npm:fast-check@3.23.2";
import {
  CaptureReaderSync,
  type CaptureWriteRecord,
  DIRECTION_INBOUND,
  DIRECTION_OUTBOUND,
  parseCapture,
  PcapngWriter,
  PcapWriter,
} from "./mod.ts";
import { pcapFile } from "./_testing.ts";
import { gated } from "../../tests/_require.ts";

const frame = fc.uint8Array({ maxLength: 1600 });
/** Microseconds since the epoch that classic pcap can hold (32-bit seconds). */
const pcapTime = fc.integer({ min: 0, max: 0xffffffff * 1e6 + 999_999 });

Deno.test("PcapWriter writes the header tcpdump writes: LE magic, 2.4, snaplen 262144", () => {
  const h = new PcapWriter({ linkType: 101 }).bytes();
  assert.deepEqual(
    [...h],
    [
      ...[0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0], // magic (LE), version 2.4
      ...[0, 0, 0, 0, 0, 0, 0, 0], // thiszone, sigfigs
      ...[0, 0, 4, 0, 101, 0, 0, 0], // snaplen 0x40000, LINKTYPE_RAW
    ],
  );
});

Deno.test("PcapWriter records read back with identical bytes and timestamps (property)", () => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ timestamp: pcapTime, data: frame }), { maxLength: 20 }),
      fc.integer({ min: 0, max: 0xffff }),
      (records, linkType) => {
        const w = new PcapWriter({ linkType });
        for (const r of records) w.write(r);
        const back = parseCapture(w.bytes());
        assert.equal(back.error, null);
        assert.equal(back.records.length, records.length);
        for (const [i, r] of records.entries()) {
          const got = back.records[i]!;
          assert.equal(got.timestamp, r.timestamp);
          assert.deepEqual(got.data, r.data);
          assert.equal(got.originalLength, r.data.length);
          assert.equal(got.linkType, linkType);
        }
      },
    ),
  );
});

Deno.test("PcapngWriter records read back with bytes, timestamps, interfaces and directions (property)", () => {
  const pcapngTime = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
  const linkTypes = fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 1, maxLength: 4 });
  fc.assert(
    fc.property(
      linkTypes,
      fc.array(
        fc.record({
          timestamp: pcapngTime,
          data: frame,
          interfaceId: fc.nat(),
          direction: fc.constantFrom(0 as const, 1 as const, 2 as const),
        }),
        { maxLength: 20 },
      ),
      (types, raw) => {
        const w = new PcapngWriter();
        for (const t of types) w.addInterface({ linkType: t });
        const records = raw.map((r) => ({ ...r, interfaceId: r.interfaceId % types.length }));
        for (const r of records) w.write(r);
        const back = parseCapture(w.bytes());
        assert.equal(back.error, null);
        assert.deepEqual(back.warnings, []);
        assert.equal(back.records.length, records.length);
        for (const [i, r] of records.entries()) {
          const got = back.records[i]!;
          assert.equal(got.timestamp, r.timestamp);
          assert.deepEqual(got.data, r.data);
          assert.equal(got.interfaceId, r.interfaceId);
          assert.equal(got.linkType, types[r.interfaceId]);
          assert.equal(got.direction, r.direction);
        }
      },
    ),
  );
});

Deno.test("PcapWriter cuts frames to the snaplen and keeps the original length", () => {
  const w = new PcapWriter({ linkType: 1, snaplen: 64 });
  w.write({ timestamp: 1, data: new Uint8Array(100).fill(7), originalLength: 1514 });
  const [rec] = parseCapture(w.bytes()).records;
  assert.equal(rec?.data.length, 64);
  assert.equal(rec?.originalLength, 1514);
});

Deno.test("PcapWriter rejects bad arguments with RangeError and bytes() with a sink with TypeError", () => {
  const w = new PcapWriter({ linkType: 1 });
  const data = new Uint8Array(1);
  assert.throws(() => w.write({ timestamp: -1, data }), RangeError);
  assert.throws(() => w.write({ timestamp: NaN, data }), RangeError);
  assert.throws(() => w.write({ timestamp: 2 ** 32 * 1e6, data }), RangeError);
  assert.throws(() => w.write({ timestamp: 0, data, originalLength: -1 }), RangeError);
  assert.throws(() => new PcapWriter({ linkType: -1 }), RangeError);
  assert.throws(() => new PcapWriter({ linkType: 1, snaplen: 0 }), RangeError);
  assert.throws(() => new PcapWriter({ linkType: 1, sink: () => {} }).bytes(), TypeError);
  assert.throws(() => new PcapngWriter().write({ timestamp: 0, data }), RangeError); // no interface
  assert.equal(w.count, 0);
});

Deno.test("PcapWriter sends each record to a function sink, or batches with bufferSize", () => {
  const chunks: Uint8Array[] = [];
  const w = new PcapWriter({ linkType: 1, sink: (c) => void chunks.push(c) });
  w.write({ timestamp: 0, data: new Uint8Array(10) });
  assert.deepEqual(chunks.map((c) => c.length), [24, 26]);
  const batched: Uint8Array[] = [];
  const b = new PcapWriter({ linkType: 1, sink: (c) => void batched.push(c), bufferSize: 100 });
  for (let i = 0; i < 5; i++) b.write({ timestamp: i, data: new Uint8Array(10) });
  assert.deepEqual(batched.map((c) => c.length), [24 + 26 * 3]);
  b.flush();
  assert.deepEqual(batched.map((c) => c.length), [24 + 26 * 3, 26 * 2]);
  assert.equal(b.byteLength, 24 + 26 * 5);
});

/** tshark prints this when run as root (as in CI); it is not about the file. */
const ROOT_WARNING = /^Running as user "[^"]*" and group "[^"]*"\. This could be dangerous\.$/;

async function tshark(
  path: string,
  fields: string[] = [],
): Promise<{ stdout: string; stderr: string; code: number }> {
  const args = [
    "-r",
    path,
    ...(fields.length ? ["-T", "fields", ...fields.flatMap((f) => ["-e", f])] : []),
  ];
  const out = await new Deno.Command("tshark", { args, stdout: "piped", stderr: "piped" }).output();
  const stderr = new TextDecoder().decode(out.stderr).split("\n").filter((l) =>
    l !== "" && !ROOT_WARNING.test(l)
  )
    .join("\n");
  return { stdout: new TextDecoder().decode(out.stdout), stderr, code: out.code };
}

const IPV4_UDP = new Uint8Array([
  ...[0x45, 0, 0, 28, 0, 1, 0, 0, 64, 17, 0, 0], // IPv4, total length 28, TTL 64, UDP
  ...[10, 0, 0, 1, 10, 0, 0, 2], // 10.0.0.1 -> 10.0.0.2
  ...[0x30, 0x39, 0, 53, 0, 8, 0, 0], // UDP 12345 -> 53, length 8
]);
const ETHERNET = new Uint8Array([
  ...[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x08, 0x00], // broadcast, IPv4
  ...IPV4_UDP,
]);

Deno.test(gated(["tshark"], {
  name: "tshark reads files written by PcapWriter.create and PcapngWriter.create cleanly",
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "pcapfile_test_" });
    try {
      const pcap = `${dir}/out.pcap`;
      const w = PcapWriter.create(pcap, { linkType: 101 });
      w.write({ timestamp: 1_700_000_000_123_456, data: IPV4_UDP });
      w.write({ timestamp: 1_700_000_001_000_000, data: IPV4_UDP });
      w.close();
      const a = await tshark(pcap);
      assert.equal(a.code, 0);
      assert.equal(a.stderr, "");
      assert.equal(a.stdout.trim().split("\n").length, 2);
      const t = await tshark(pcap, ["frame.time_epoch", "ip.dst", "udp.dstport"]);
      assert.equal(t.stdout.split("\n")[0], "1700000000.123456000\t10.0.0.2\t53");

      const ng = `${dir}/out.pcapng`;
      const n = PcapngWriter.create(ng, {
        interfaces: [{ linkType: 1, name: "tap0" }, { linkType: 101, name: "tun0" }],
      });
      n.write({
        timestamp: 1_000_000,
        data: ETHERNET,
        interfaceId: 0,
        direction: DIRECTION_INBOUND,
      });
      n.write({
        timestamp: 2_000_000,
        data: IPV4_UDP,
        interfaceId: 1,
        direction: DIRECTION_OUTBOUND,
      });
      n.close();
      const b = await tshark(ng, [
        "frame.interface_name",
        "frame.len",
        "ip.dst",
        "frame.time_epoch",
      ]);
      assert.equal(b.code, 0);
      assert.equal(b.stderr, "");
      assert.deepEqual(b.stdout.trim().split("\n"), [
        "tap0\t42\t10.0.0.2\t1.000000000",
        "tun0\t28\t10.0.0.2\t2.000000000",
      ]);
      // And we read back what we wrote, streaming from the file.
      const reader = CaptureReaderSync.open(ng);
      assert.deepEqual([...reader].map((r) => r.linkType), [1, 101]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
}));

Deno.test(gated(["tshark"], {
  name: "tshark agrees with parseCapture() on hand-built big-endian and nanosecond pcaps",
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "pcapfile_test_" });
    try {
      for (const le of [true, false]) {
        for (const nano of [true, false]) {
          const path = `${dir}/f.pcap`;
          const file = pcapFile({ le, nano, linkType: 101 }, [
            { seconds: 1_700_000_000, fraction: nano ? 123_456_789 : 123_456, data: IPV4_UDP },
          ]);
          await Deno.writeFile(path, file);
          const t = await tshark(path, ["frame.time_epoch", "ip.dst"]);
          assert.equal(t.code, 0);
          assert.equal(t.stderr, "");
          const rec = parseCapture(file).records[0]!;
          const ours = `${rec.seconds}.${String(rec.nanoseconds).padStart(9, "0")}\t10.0.0.2`;
          assert.equal(t.stdout.trim(), ours);
        }
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
}));

Deno.test("CaptureWriteRecord fields beyond timestamp and data are optional", () => {
  const r: CaptureWriteRecord = { timestamp: 0, data: new Uint8Array(0) };
  const w = new PcapngWriter({ interfaces: [{ linkType: 1 }], application: "" });
  w.write(r);
  assert.equal(parseCapture(w.bytes()).records[0]!.direction, 0);
});
