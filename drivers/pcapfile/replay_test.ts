import assert from "node:assert/strict";
import {
  CONSUMED,
  createStack,
  DEFAULT_PLUGINS,
  ManualClock,
  type ProtocolPlugin,
  type Stack,
} from "../../mod.ts";
import {
  CaptureReader,
  CaptureReaderSync,
  classifyFrame,
  DIRECTION_INBOUND,
  DIRECTION_OUTBOUND,
  parseCapture,
  PcapngWriter,
  PcapWriter,
  replayCapture,
  ReplayDriver,
  type ReplaySummary,
} from "./mod.ts";

const T0 = 1_700_000_000_000_000; // capture time of the first packet
const SECOND = 1_000_000;
const OUR_MAC = new Uint8Array([2, 0, 0, 0, 0, 2]);
const PEER_MAC = new Uint8Array([2, 0, 0, 0, 0, 1]);
const PROBE_TYPE = 0x88b5;

/** An Ethernet frame to us of the probe's EtherType, carrying `tag`. */
function probeFrame(tag: number, length = 20): Uint8Array {
  const f = new Uint8Array(14 + length);
  f.set(OUR_MAC, 0);
  f.set(PEER_MAC, 6);
  f[12] = PROBE_TYPE >> 8;
  f[13] = PROBE_TYPE & 0xff;
  f[14] = tag;
  return f;
}

/**
 * A plugin on EtherType 0x88b5 that records when each frame arrives and
 * arms its one timer 1 s later; the timer sends a frame tagged 0xee.
 */
function probe() {
  const seen: { at: number; tag: number; length: number }[] = [];
  const fired: number[] = [];
  const plugin: ProtocolPlugin = {
    manifest: {
      name: "probe",
      version: "1.0.0",
      api: "^1.0.0",
      description: "test: records frames, answers 1 s after the last one",
      layer: "service",
      binds: [{ table: "ethertype", key: PROBE_TYPE }],
      counters: [],
    },
    setup(ctx) {
      let ifindex = 0;
      const timer = ctx.timer((now) => {
        fired.push(now);
        const reply = probeFrame(0xee);
        reply.set(PEER_MAC, 0);
        reply.set(OUR_MAC, 6);
        ctx.transmit(ifindex, ctx.pool.copyOf(reply));
      });
      return {
        receive(pkt, rx) {
          seen.push({ at: ctx.now(), tag: pkt.buf[pkt.start]!, length: pkt.length });
          ifindex = rx.iface.index;
          timer.arm(ctx.now() + SECOND);
          return CONSUMED;
        },
      };
    },
  };
  return { plugin, seen, fired };
}

/** Whether `frame` (Ethernet) is the probe's: IPv6's start-up frames (DAD, RS, MLD) are not. */
const isProbe = (frame: Uint8Array) => ((frame[12]! << 8) | frame[13]!) === PROBE_TYPE;

/** Stack options: `quiet` leaves out IPv6's autoconfiguration (ndp, mld, slaac) where a test counts every frame sent. */
function setup(options: { start?: number; raw?: boolean; quiet?: boolean } = {}) {
  const p = probe();
  const clock = new ManualClock(options.start ?? 0);
  const autoconf = ["ndp", "mld", "slaac"];
  const plugins = options.quiet
    ? DEFAULT_PLUGINS.filter((d) => !autoconf.includes(d.manifest.name))
    : DEFAULT_PLUGINS;
  const stack = createStack({ clock, seed: 1, plugins: [...plugins, p.plugin] });
  const eth = new ReplayDriver({ linkType: 1, mac: OUR_MAC, name: "eth0" });
  stack.addInterface({ name: "eth0", driver: eth, addresses: ["10.0.0.2/24"] });
  const drivers = [eth];
  if (options.raw) {
    const tun = new ReplayDriver({ linkType: 101, name: "tun0" });
    stack.addInterface({ name: "tun0", driver: tun, addresses: ["10.1.0.2/24"] });
    drivers.push(tun);
  }
  return { ...p, clock, stack, eth, drivers };
}

function finish(stack: Stack): void {
  stack.close();
  assert.equal(stack.pool.outstanding, 0, "packet buffers leaked");
}

function pcap(frames: readonly { t: number; data: Uint8Array; orig?: number }[], linkType = 1) {
  const w = new PcapWriter({ linkType });
  for (const f of frames) {
    w.write({ timestamp: f.t, data: f.data, ...(f.orig ? { originalLength: f.orig } : {}) });
  }
  return w.bytes();
}

Deno.test("ReplayDriver.receive() hands the stack a copy; transmit() reaches onTransmit", () => {
  const { stack, eth, seen } = setup({ quiet: true });
  const sent: number[] = [];
  eth.onTransmit = (frame) => void sent.push(frame.length);
  const frame = probeFrame(7);
  assert.equal(eth.receive(frame), true);
  frame[14] = 99; // the stack had a copy
  assert.deepEqual(seen.map((s) => s.tag), [7]);
  assert.equal(eth.received, 1);
  eth.onTransmit = () => {
    throw new Error("a broken sink");
  };
  const before = eth.transmitted; // the ARP announcement of 10.0.0.2
  stack.poll(SECOND); // the probe's timer sends
  assert.equal(eth.transmitted, before + 1);
  assert.equal(eth.transmitErrors, 1);
  eth.close();
  assert.equal(eth.receive(frame), false);
  finish(stack);
  assert.deepEqual(sent, []);
});

Deno.test("replayCapture() rebases capture time onto the stack clock, gaps kept", async () => {
  const { stack, seen } = setup({ start: 7_000 });
  const file = pcap([
    { t: T0, data: probeFrame(1) },
    { t: T0 + 1.5 * SECOND, data: probeFrame(2) },
    { t: T0 + 1.5 * SECOND, data: probeFrame(3) },
    { t: T0 + 4 * SECOND, data: probeFrame(4) },
  ]);
  const s = await replayCapture(file, {
    stack,
    drivers: stack.interfaces.list().map((i) => i.driver as ReplayDriver),
  });
  assert.deepEqual(seen.map((x) => x.at), [7_000, 1_507_000, 1_507_000, 4_007_000]);
  assert.equal(s.epochOffset, T0 - 7_000);
  assert.deepEqual([s.firstTimestamp, s.lastTimestamp, s.stackTime], [
    T0,
    T0 + 4 * SECOND,
    4 * SECOND,
  ]);
  assert.deepEqual([s.read, s.replayed, s.accepted], [4, 4, 4]);
  assert.deepEqual(s.acceptedBy, { probe: 4 });
  finish(stack);
});

Deno.test("replayCapture() runs timers due between packets first, in deadline order", async () => {
  const { stack, drivers, seen, fired } = setup();
  const out = new PcapngWriter({ interfaces: [{ linkType: 1, name: "eth0" }] });
  const file = pcap([
    { t: T0, data: probeFrame(1) }, // arms the timer for 1 s
    { t: T0 + SECOND / 2, data: probeFrame(2) }, // moves it to 1.5 s
    { t: T0 + 3 * SECOND, data: probeFrame(3) }, // after it fired; arms 4 s
  ]);
  const s = await replayCapture(file, { stack, drivers, output: out, merge: true });
  assert.deepEqual(fired, [1.5 * SECOND]); // the 4 s timer is past the end (no tail)
  assert.deepEqual(seen.map((x) => x.at), [0, SECOND / 2, 3 * SECOND]);
  const all = parseCapture(out.bytes()).records;
  const recs = all.filter((r) => isProbe(r.data));
  assert.deepEqual(
    recs.map((r) => [r.timestamp - T0, r.direction, r.data[14]]),
    [
      [0, DIRECTION_INBOUND, 1],
      [SECOND / 2, DIRECTION_INBOUND, 2],
      [1.5 * SECOND, DIRECTION_OUTBOUND, 0xee],
      [3 * SECOND, DIRECTION_INBOUND, 3],
    ],
  );
  assert.equal(s.sent, all.filter((r) => r.direction === DIRECTION_OUTBOUND).length);
  finish(stack);
});

Deno.test("replayCapture() keeps timers running for tail after the last packet", async () => {
  const { stack, drivers, fired } = setup();
  const file = pcap([{ t: T0, data: probeFrame(1) }]);
  const s = await replayCapture(file, { stack, drivers, tail: 2 * SECOND });
  assert.deepEqual(fired, [SECOND]);
  assert.equal(s.stackTime, 2 * SECOND);
  finish(stack);
});

Deno.test("replayCapture() replays a packet stamped in the past at the current time", async () => {
  const { stack, drivers, seen } = setup();
  const file = pcap([
    { t: T0 + 2 * SECOND, data: probeFrame(1) },
    { t: T0, data: probeFrame(2) },
    { t: T0 + 3 * SECOND, data: probeFrame(3) },
  ]);
  const s = await replayCapture(file, { stack, drivers });
  assert.deepEqual(seen.map((x) => x.at), [0, 0, SECOND]);
  assert.equal(s.reordered, 1);
  finish(stack);
});

Deno.test("replayCapture() feeds a packet cut by the snapshot length as captured", async () => {
  const { stack, drivers, seen } = setup();
  const file = pcap([{ t: T0, data: probeFrame(1, 10), orig: 1514 }]);
  const s = await replayCapture(file, { stack, drivers });
  assert.deepEqual(seen.map((x) => x.length), [10]);
  assert.equal(s.truncated, 1);
  finish(stack);
});

Deno.test("replayCapture() maps pcapng interfaces by link type and skips unknown ones", async () => {
  const { stack, drivers, seen } = setup({ raw: true });
  const w = new PcapngWriter();
  const eth = w.addInterface({ linkType: 1 });
  const raw = w.addInterface({ linkType: 228 });
  const other = w.addInterface({ linkType: 147 });
  // ICMP echo request 10.1.0.1 -> 10.1.0.2 on the raw interface.
  const echo = new Uint8Array([
    0x45,
    0,
    0,
    28,
    0,
    1,
    0,
    0,
    64,
    1,
    0x66,
    0xdc,
    10,
    1,
    0,
    1,
    10,
    1,
    0,
    2,
    8,
    0,
    0xf7,
    0xfe,
    0,
    1,
    0,
    0,
  ]);
  w.write({ timestamp: T0, data: probeFrame(1), interfaceId: eth });
  w.write({ timestamp: T0 + 1, data: new Uint8Array(9), interfaceId: other });
  w.write({ timestamp: T0 + 2, data: echo, interfaceId: raw });
  w.write({ timestamp: T0 + 3, data: new Uint8Array(9), interfaceId: other });
  const messages: string[] = [];
  const s = await replayCapture(w.bytes(), { stack, drivers, onMessage: (m) => messages.push(m) });
  assert.deepEqual(seen.map((x) => x.tag), [1]);
  assert.deepEqual([s.read, s.replayed, s.skipped], [4, 2, 2]);
  assert.deepEqual(s.skippedByLinkType, { "linktype 147": 2 });
  assert.deepEqual(s.acceptedBy, { probe: 1, icmp: 1 });
  const sentBy = Object.entries(s.sentBy).filter(([kind]) => !kind.startsWith("icmp6"));
  assert.deepEqual(Object.fromEntries(sentBy), { "icmp echo reply": 1 });
  assert.equal(messages.length, 1); // once per interface
  assert.match(messages[0]!, /capture interface 2 \(link type 147, first at packet 2, byte \d+\)/);
  finish(stack);
});

Deno.test("replayCapture() sends every interface where route says", async () => {
  const { stack, drivers, seen } = setup({ raw: true });
  const w = new PcapngWriter();
  w.addInterface({ linkType: 1, name: "a" });
  w.addInterface({ linkType: 1, name: "b" });
  w.write({ timestamp: T0, data: probeFrame(1), interfaceId: 0 });
  w.write({ timestamp: T0, data: probeFrame(2), interfaceId: 1 });
  const s = await replayCapture(w.bytes(), {
    stack,
    drivers,
    route: (i) => i.name === "b" ? drivers[0] : undefined,
  });
  assert.deepEqual(seen.map((x) => x.tag), [2]);
  assert.equal(s.skipped, 1);
  finish(stack);
});

Deno.test("replayCapture() accounts each packet: accepted by plugin, dropped by counter", async () => {
  const { stack, drivers } = setup();
  const other = probeFrame(1);
  other.set([2, 0, 0, 0, 0, 9], 0); // unicast to another host
  const unbound = probeFrame(2);
  unbound[13] = 0xb6; // EtherType 0x88b6: nobody binds it
  const file = pcap([
    { t: T0, data: probeFrame(0) },
    { t: T0, data: other },
    { t: T0, data: unbound },
    { t: T0, data: unbound },
    { t: T0, data: new Uint8Array(5) },
  ]);
  const s = await replayCapture(file, { stack, drivers });
  assert.equal(s.accepted, 1);
  assert.deepEqual(s.dropped, {
    "ethernet.rx.not_for_us": 1,
    "dispatcher.rx.no_binding": 2,
    "ethernet.rx.truncated": 1,
  });
  assert.deepEqual(s.unbound, { "ethertype 0x88b6": 2 });
  const off = await replayCapture(file, { stack, drivers, accounting: false });
  assert.deepEqual([off.accepted, off.dropped], [0, {}]);
  finish(stack);
});

Deno.test("replayCapture() leaves out what the filter rejects", async () => {
  const { stack, drivers, seen } = setup();
  const file = pcap([1, 2, 3, 4].map((tag) => ({ t: T0 + tag, data: probeFrame(tag) })));
  const s = await replayCapture(file, { stack, drivers, filter: (r) => r.data[14]! % 2 === 0 });
  assert.deepEqual(seen.map((x) => x.tag), [2, 4]);
  assert.deepEqual([s.read, s.replayed, s.filtered], [4, 2, 2]);
  finish(stack);
});

Deno.test("replayCapture() skips a corrupt pcapng block (offset in the message) and replays the rest", async () => {
  const { stack, drivers, seen } = setup();
  const w = new PcapngWriter({ interfaces: [{ linkType: 1 }] });
  for (let tag = 1; tag <= 3; tag++) w.write({ timestamp: T0 + tag, data: probeFrame(tag) });
  const file = w.bytes();
  const second = parseCapture(file).records[1]!.fileOffset;
  new DataView(file.buffer).setUint32(second + 20, 4000, true); // caplen past the block
  const messages: string[] = [];
  const s = await replayCapture(file, { stack, drivers, onMessage: (m) => messages.push(m) });
  assert.deepEqual(seen.map((x) => x.tag), [1, 3]);
  assert.equal(s.error, null);
  assert.equal(s.warnings.length, 1);
  assert.equal(s.warnings[0]!.offset, second);
  assert.match(messages[0]!, new RegExp(`^Skipped a bad block: .*byte ${second}.*overruns`));
  finish(stack);
});

Deno.test("replayCapture() replays a cut-off file up to the cut and says where it is", async () => {
  const { stack, drivers, seen } = setup();
  const file = pcap([1, 2, 3].map((tag) => ({ t: T0 + tag, data: probeFrame(tag) })));
  const s = await replayCapture(file.subarray(0, file.length - 5), { stack, drivers });
  assert.deepEqual(seen.map((x) => x.tag), [1, 2]);
  assert.equal(s.error?.code, "truncated");
  assert.equal(s.error?.offset, 24 + 2 * (16 + 34));
  assert.match(
    s.messages.at(-1)!,
    /^The capture ends early \(truncated\): Cannot read capture at byte 124: .*; 2 packets before it were read$/,
  );
  finish(stack);
});

Deno.test("replayCapture() merges into pcap in timestamp order", async () => {
  const { stack, drivers } = setup();
  const out = new PcapWriter({ linkType: 1 });
  const file = pcap([
    { t: T0, data: probeFrame(1) },
    { t: T0 + 3 * SECOND, data: probeFrame(2) },
  ]);
  await replayCapture(file, { stack, drivers, output: out, merge: true, tail: 2 * SECOND });
  const recs = parseCapture(out.bytes()).records.filter((r) => isProbe(r.data));
  assert.deepEqual(recs.map((r) => r.data[14]), [1, 0xee, 2, 0xee]);
  const times = recs.map((r) => r.timestamp - T0);
  assert.deepEqual(times, [0, SECOND, 3 * SECOND, 4 * SECOND]);
  finish(stack);
});

Deno.test("replayCapture() reads paths, byte arrays, streams and open readers alike", async () => {
  const file = pcap([1, 2].map((tag) => ({ t: T0 + tag * SECOND, data: probeFrame(tag) })));
  const path = await Deno.makeTempFile({ suffix: ".pcap" });
  await Deno.writeFile(path, file);
  const results: ReplaySummary[] = [];
  try {
    for (
      const source of [
        path,
        file,
        ReadableStream.from([file.subarray(0, 30), file.subarray(30)]),
        new CaptureReaderSync(file),
        new CaptureReader(ReadableStream.from([file])),
      ]
    ) {
      const { stack, drivers, seen } = setup();
      results.push(await replayCapture(source, { stack, drivers }));
      assert.deepEqual(seen.map((x) => x.at), [0, SECOND]);
      finish(stack);
    }
  } finally {
    await Deno.remove(path);
  }
  for (const s of results) assert.deepEqual([s.read, s.accepted, s.format], [2, 2, "pcap"]);
});

Deno.test("replayCapture() paced gives the same result as max speed", async () => {
  const file = pcap([1, 2, 3].map((tag) => ({ t: T0 + tag * 1000, data: probeFrame(tag) })));
  const a = setup();
  const fast = await replayCapture(file, { stack: a.stack, drivers: a.drivers });
  const b = setup();
  const paced = await replayCapture(file, { stack: b.stack, drivers: b.drivers, speed: 1000 });
  assert.deepEqual(b.seen, a.seen);
  assert.equal(paced.accepted, fast.accepted);
  finish(a.stack);
  finish(b.stack);
});

Deno.test("replayCapture() stops when the signal aborts", async () => {
  const { stack, drivers, seen } = setup();
  const file = pcap([1, 2].map((tag) => ({ t: T0 + tag * SECOND, data: probeFrame(tag) })));
  const controller = new AbortController();
  controller.abort();
  const s = await replayCapture(file, { stack, drivers, signal: controller.signal });
  assert.equal(s.aborted, true);
  assert.equal(seen.length, 0);
  // Paced: aborted while waiting for the second packet, 1000 s away.
  const c2 = new AbortController();
  const slow = pcap([{ t: T0, data: probeFrame(1) }, {
    t: T0 + 1000 * SECOND,
    data: probeFrame(2),
  }]);
  const running = replayCapture(slow, { stack, drivers, speed: 1, signal: c2.signal });
  setTimeout(() => c2.abort(), 20);
  const s2 = await running;
  assert.equal(s2.aborted, true);
  assert.deepEqual(seen.map((x) => x.tag), [1]);
  finish(stack);
});

Deno.test("replayCapture() refuses a clock it cannot set, detached drivers, bad speed", async () => {
  const file = pcap([]);
  const fixed = createStack({ clock: { now: () => 0 } });
  const d = new ReplayDriver({ linkType: 1 });
  fixed.addInterface({ driver: d });
  await assert.rejects(() => replayCapture(file, { stack: fixed, drivers: [d] }), TypeError);
  fixed.close();
  const { stack, drivers } = setup();
  await assert.rejects(
    () => replayCapture(file, { stack, drivers: [new ReplayDriver({ linkType: 1 })] }),
    /not attached/,
  );
  await assert.rejects(() => replayCapture(file, { stack, drivers, speed: 0 }), RangeError);
  await assert.rejects(() => replayCapture(file, { stack, drivers, tail: -1 }), RangeError);
  assert.throws(() => new ReplayDriver({ linkType: 1, mtu: 10 }), RangeError);
  finish(stack);
});

Deno.test("classifyFrame() names answers by protocol and kind", () => {
  const arp = new Uint8Array(42);
  arp.set([0x08, 0x06], 12);
  arp[21] = 2;
  assert.equal(classifyFrame(arp, 1), "arp reply");
  const icmp = new Uint8Array(28);
  icmp.set([0x45], 0);
  icmp[9] = 1;
  icmp.set([3, 3], 20);
  assert.equal(classifyFrame(icmp, 228), "icmp port unreachable");
  const v6 = new Uint8Array(48);
  v6.set([0x60, 0, 0, 0, 0, 8, 58, 255]);
  v6[40] = 136;
  assert.equal(classifyFrame(v6, 229), "icmp6 neighbor advertisement");
  const frag = new Uint8Array(28);
  frag.set([0x45, 0, 0, 28, 0, 0, 0, 1]);
  assert.equal(classifyFrame(frag, 101), "ip fragment");
  assert.equal(classifyFrame(new Uint8Array(5), 147), "linktype 147");
});
