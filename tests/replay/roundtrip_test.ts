/**
 * Property tests through the whole capture path: what our writers write, our
 * readers read back unchanged (pcap and pcapng), and replaying a capture
 * through a stack whose interface is wrapped in a `CaptureTap` records the
 * very same packets at the very same times.
 */
import assert from "node:assert/strict";
import fc from "npm:fast-check@3.23.2";
import { createStack, ManualClock } from "../../mod.ts";
import {
  CaptureReaderSync,
  type CaptureRecord,
  CaptureTap,
  DIRECTION_INBOUND,
  parseCapture,
  PcapngWriter,
  PcapWriter,
  replayCapture,
  ReplayDriver,
} from "../../drivers/pcapfile/mod.ts";

interface Packet {
  readonly timestamp: number;
  readonly data: Uint8Array;
  readonly originalLength: number;
}

const EPOCH = 1_600_000_000_000_000;

/** Packets with non-decreasing timestamps (µs), some cut short (original length above caplen). */
const packets: fc.Arbitrary<Packet[]> = fc.array(
  fc.record({
    gap: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 5_000_000 })),
    data: fc.uint8Array({ maxLength: 300 }),
    extra: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 2000 })),
  }),
  { maxLength: 40 },
).map((xs) => {
  let t = EPOCH;
  return xs.map((x) => {
    t += x.gap;
    return { timestamp: t, data: x.data, originalLength: x.data.length + x.extra };
  });
});

function same(records: readonly CaptureRecord[], input: readonly Packet[]): void {
  assert.equal(records.length, input.length);
  records.forEach((r, i) => {
    assert.equal(r.timestamp, input[i]!.timestamp, `packet ${i + 1} timestamp`);
    assert.deepEqual(r.data, input[i]!.data, `packet ${i + 1} data`);
    assert.equal(r.originalLength, input[i]!.originalLength, `packet ${i + 1} length`);
  });
}

Deno.test("a capture written by PcapWriter reads back with the same packets and times", () => {
  fc.assert(
    fc.property(packets, fc.constantFrom(1, 101, 228), fc.nat({ max: 40 }), (input, lt, chunk) => {
      const w = new PcapWriter({ linkType: lt });
      for (const p of input) w.write(p);
      const file = w.bytes();
      const parsed = parseCapture(file);
      assert.equal(parsed.error, null);
      same(parsed.records, input);
      // Streamed in small chunks, as from a file.
      const chunks: Uint8Array[] = [];
      const size = chunk + 1;
      for (let i = 0; i < file.length; i += size) chunks.push(file.slice(i, i + size));
      const reader = new CaptureReaderSync(chunks);
      same([...reader], input);
      assert.equal(reader.error, null);
    }),
    { numRuns: 200 },
  );
});

Deno.test("a capture written by PcapngWriter reads back with the same packets, times, interfaces", () => {
  fc.assert(
    fc.property(packets, fc.array(fc.nat({ max: 2 }), { maxLength: 40 }), (input, ifs) => {
      const w = new PcapngWriter({
        interfaces: [{ linkType: 1, name: "eth0" }, { linkType: 101 }, { linkType: 228 }],
      });
      input.forEach((p, i) =>
        w.write({ ...p, interfaceId: ifs[i] ?? 0, direction: DIRECTION_INBOUND })
      );
      const parsed = parseCapture(w.bytes());
      assert.equal(parsed.error, null);
      same(parsed.records, input);
      parsed.records.forEach((r, i) => {
        assert.equal(r.interfaceId, ifs[i] ?? 0);
        assert.equal(r.linkType, [1, 101, 228][ifs[i] ?? 0]);
        assert.equal(r.direction, DIRECTION_INBOUND);
      });
    }),
    { numRuns: 200 },
  );
});

Deno.test("replaying a capture through a tapped interface records the same packets at the same times", async () => {
  await fc.assert(
    fc.asyncProperty(packets, fc.boolean(), async (input, ng) => {
      const w = ng
        ? new PcapngWriter({ interfaces: [{ linkType: 1 }] })
        : new PcapWriter({ linkType: 1 });
      for (const p of input) w.write(p);
      const stack = createStack({ clock: new ManualClock(), seed: 1 });
      const driver = new ReplayDriver({ linkType: 1, mac: new Uint8Array([2, 0, 0, 0, 0, 2]) });
      const tapped = new PcapWriter({ linkType: 1 });
      // Stack time 0 is the first packet's capture time (the replay rebases).
      const epochOffset = input[0]?.timestamp ?? 0;
      stack.addInterface({
        driver: new CaptureTap(driver, { writer: tapped, epochOffset, transmit: false }),
      });
      const s = await replayCapture(w.bytes(), { stack, drivers: [driver] });
      assert.equal(s.replayed, input.length);
      assert.equal(s.epochOffset, epochOffset);
      const got = parseCapture(tapped.bytes()).records;
      assert.equal(got.length, input.length);
      got.forEach((r, i) => {
        assert.equal(r.timestamp, input[i]!.timestamp);
        assert.deepEqual(r.data, input[i]!.data); // as captured, not padded or cut further
      });
      stack.close();
      assert.equal(stack.pool.outstanding, 0);
    }),
    { numRuns: 60 },
  );
});
