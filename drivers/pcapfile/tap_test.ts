import assert from "node:assert/strict";
import type { DriverPort, LinkDriver } from "../../stack/driver.ts";
import { PacketBuffer } from "../../stack/packet.ts";
import { PacketPool } from "../../stack/packet_pool.ts";
import {
  CaptureTap,
  type CaptureWriter,
  DIRECTION_INBOUND,
  DIRECTION_OUTBOUND,
  parseCapture,
  PcapngWriter,
  PcapWriter,
} from "./mod.ts";

/** A driver that records what it is asked to send and lets the test inject frames. */
class FakeDriver implements LinkDriver {
  readonly linkType = 1;
  readonly mtu = 1500;
  readonly mac = new Uint8Array([2, 0, 0, 0, 0, 1]);
  port: DriverPort | null = null;
  sent: number[][] = [];
  closed = false;
  attach(port: DriverPort): void {
    this.port = port;
  }
  transmit(pkt: PacketBuffer): void {
    this.sent.push([...pkt.data]);
    pkt.data.fill(0xdd); // the driver owns the buffer now and may scribble on it
    pkt.release();
  }
  close(): void {
    this.closed = true;
  }
  /** Delivers a frame the way a driver does: from the pool, ownership passing to the stack. */
  inject(bytes: number[]): void {
    this.port!.receive(this.port!.pool.copyOf(new Uint8Array(bytes)));
  }
}

function stackPort(now: { t: number }, got: number[][]): DriverPort {
  return {
    receive(pkt: PacketBuffer) {
      got.push([...pkt.data]);
      pkt.data.fill(0xee); // the stack reuses the buffer after receive returns
      pkt.release();
    },
    pool: new PacketPool(),
    now: () => now.t,
    ifindex: 3,
  };
}

Deno.test("CaptureTap forwards attach/transmit/close and records both directions with copies", () => {
  const inner = new FakeDriver();
  const writer = new PcapngWriter({ interfaces: [{ linkType: 1 }] });
  const tap = new CaptureTap(inner, { writer, epochOffset: 1_700_000_000_000_000 });
  assert.equal(tap.linkType, 1);
  assert.equal(tap.mtu, 1500);
  assert.equal(tap.mac, inner.mac);

  const clock = { t: 100 };
  const got: number[][] = [];
  tap.attach(stackPort(clock, got));
  assert.equal(inner.port?.ifindex, 3);
  assert.equal(inner.port?.now(), 100);

  inner.inject([1, 2, 3]);
  clock.t = 250;
  tap.transmit(PacketBuffer.wrap(new Uint8Array([4, 5])));
  tap.close();

  assert.deepEqual(got, [[1, 2, 3]]);
  assert.deepEqual(inner.sent, [[4, 5]]);
  assert.equal(inner.closed, true);
  assert.equal(tap.recorded, 2);

  const { records } = parseCapture(writer.bytes());
  assert.deepEqual(records.map((r) => [...r.data]), [[1, 2, 3], [4, 5]]);
  assert.deepEqual(records.map((r) => r.timestamp), [1_700_000_000_000_100, 1_700_000_000_000_250]);
  assert.deepEqual(records.map((r) => r.direction), [DIRECTION_INBOUND, DIRECTION_OUTBOUND]);
});

Deno.test("CaptureTap records only the directions asked for", () => {
  const inner = new FakeDriver();
  const writer = new PcapWriter({ linkType: 1 });
  const tap = new CaptureTap(inner, { writer, transmit: false });
  tap.attach(stackPort({ t: 0 }, []));
  inner.inject([9]);
  tap.transmit(PacketBuffer.wrap(new Uint8Array([8])));
  assert.deepEqual(parseCapture(writer.bytes()).records.map((r) => [...r.data]), [[9]]);

  const rxOff = new FakeDriver();
  const port = stackPort({ t: 0 }, []);
  new CaptureTap(rxOff, { writer, receive: false }).attach(port);
  assert.equal(rxOff.port, port); // not wrapped at all
});

Deno.test("CaptureTap with epochOffset 'wall' stamps frames with the wall clock", () => {
  const inner = new FakeDriver();
  const writer = new PcapWriter({ linkType: 1 });
  const tap = new CaptureTap(inner, { writer, epochOffset: "wall" });
  const before = Date.now() * 1000;
  tap.attach(stackPort({ t: 5_000_000 }, []));
  inner.inject([1]);
  const after = Date.now() * 1000;
  const ts = parseCapture(writer.bytes()).records[0]!.timestamp;
  assert.ok(ts >= before && ts <= after, `${before} <= ${ts} <= ${after}`);
});

Deno.test("CaptureTap never throws when the writer fails; frames still flow", () => {
  const inner = new FakeDriver();
  const failing: CaptureWriter = {
    write() {
      throw new Error("disk full");
    },
  };
  const errors: unknown[] = [];
  const tap = new CaptureTap(inner, { writer: failing, onError: (e) => errors.push(e) });
  const got: number[][] = [];
  tap.attach(stackPort({ t: 0 }, got));
  inner.inject([1]);
  tap.transmit(PacketBuffer.wrap(new Uint8Array([2])));
  assert.deepEqual(got, [[1]]);
  assert.deepEqual(inner.sent, [[2]]);
  assert.equal(tap.errors, 2);
  assert.equal(tap.recorded, 0);
  assert.equal(errors.length, 2);
});

Deno.test("CaptureTap records into one pcapng with an interface per wrapped driver", () => {
  const writer = new PcapngWriter();
  const eth = new FakeDriver();
  const raw: LinkDriver = {
    linkType: 101,
    mtu: 1500,
    attach() {},
    transmit: (p) => p.release(),
    close() {},
  };
  const tapEth = new CaptureTap(eth, {
    writer,
    interfaceId: writer.addInterface({ linkType: eth.linkType }),
  });
  const tapRaw = new CaptureTap(raw, {
    writer,
    interfaceId: writer.addInterface({ linkType: raw.linkType }),
  });
  assert.equal("mac" in tapRaw, false);
  tapEth.attach(stackPort({ t: 1 }, []));
  tapRaw.attach(stackPort({ t: 2 }, []));
  tapRaw.transmit(PacketBuffer.wrap(new Uint8Array([0x45])));
  eth.inject([0xff]);
  const { records } = parseCapture(writer.bytes());
  assert.deepEqual(records.map((r) => [r.linkType, r.timestamp]), [[101, 2], [1, 1]]);
  assert.throws(() => new CaptureTap(eth, { writer, epochOffset: NaN }), RangeError);
});
