/**
 * IPv4 options on receive: echo replies reflect Record Route and Timestamp
 * (RFC 1122 §3.2.2.6) with this host's entries added as Linux adds them,
 * malformed options get Parameter Problem with the bad byte's offset, source
 * routes are dropped (RFC 7126), Router Alert is flagged for the protocol.
 * A raw-IP host (10.0.0.1); the test is 10.0.0.2.
 *
 * @module
 */
import assert from "node:assert/strict";
import { CONSUMED } from "../../mod.ts";
import {
  checkIcmp,
  checkIpv4,
  type Host,
  icmpEcho,
  ip,
  ipv4Packet,
  makeHost,
  PacketFlags,
  testPlugin,
} from "../_harness.ts";
import { assertTsharkClean } from "../_tshark.ts";
import { type Ipv4OptionRepr, parseIpv4Options } from "../../stack/wire/ipv4_options.ts";

const US = ip("10.0.0.1");
const PEER = ip("10.0.0.2");
const DAY_MS = 86_400_000;
/** What tshark says about the malformed options quoted by our Parameter Problems. */
const QUOTED_WARNINGS =
  /^(Pointer points before first address|Router Alert \(with too-short option length = 0 bytes\)|Record Route \(option length = 11 bytes says option goes past end of options\))$/;

function echoWith(options: number[], sequence = 1): Uint8Array {
  return ipv4Packet(
    { src: "10.0.0.2", dst: "10.0.0.1", protocol: 1, options: new Uint8Array(options) },
    icmpEcho({ identifier: 0x1234, sequence }),
  );
}

function host(plugins: Parameters<typeof makeHost>[0] = {}): Host {
  return makeHost({ linkType: 101, capture: true, ...plugins });
}

/** The options of a raw IPv4 packet, parsed. */
function optionsOf(p: Uint8Array): Ipv4OptionRepr[] {
  const hlen = (p[0]! & 0x0f) * 4;
  const r = parseIpv4Options(p.subarray(20, hlen));
  assert.ok(Array.isArray(r), JSON.stringify(r));
  return r;
}

async function finish(h: Host, allowWarnings: RegExp[] = []): Promise<void> {
  await assertTsharkClean(h.capture!.bytes(), { allowWarnings });
  h.finish();
}

Deno.test("ipv4 options: an echo request with Record Route gets it back with our address twice", async () => {
  const h = host();
  // As ping -R sends it: NOP, RR of 9 slots with the sender already recorded.
  const rr = [1, 7, 39, 8, 10, 0, 0, 2, ...new Array(32).fill(0)];
  const out = h.inject(echoWith(rr));
  assert.equal(out.length, 1);
  checkIpv4({ src: "10.0.0.1", dst: "10.0.0.2", protocol: 1 }, checkIcmp({ type: 0 }))(out[0]!);
  assert.equal(out[0]![0], 0x4f); // IHL 15: 40 option bytes
  assert.deepEqual(optionsOf(out[0]!), [
    { kind: "record_route", pointer: 16, addresses: [PEER, US, US, 0, 0, 0, 0, 0, 0] },
    { kind: "end" },
  ]);
  // The ICMP message itself is the request's, type changed.
  assert.deepEqual(
    out[0]!.subarray(68),
    icmpEcho({ identifier: 0x1234, sequence: 1 }).subarray(8),
  );
  assert.equal(h.counter("ipv4.rx.delivered"), 1);
  await finish(h);
});

Deno.test("ipv4 options: a full Record Route comes back unchanged", async () => {
  const h = host();
  const out = h.inject(echoWith([7, 7, 8, 10, 0, 0, 2, 0]));
  assert.equal(out.length, 1);
  assert.deepEqual(optionsOf(out[0]!), [
    { kind: "record_route", pointer: 8, addresses: [PEER] },
    { kind: "end" },
  ]);
  await finish(h);
});

Deno.test("ipv4 options: Timestamp (tsonly) gets two timestamps in ms since midnight", async () => {
  const h = host();
  h.runFor(1_234_567); // the clock at 1.234567 s: 1234 ms "since midnight" (epoch 0)
  const out = h.inject(echoWith([68, 16, 5, 0, ...new Array(12).fill(0)]));
  assert.equal(out.length, 1);
  assert.deepEqual(optionsOf(out[0]!), [
    { kind: "timestamp", pointer: 13, overflow: 0, flag: 0, words: [1234, 1234, 0] },
  ]);
  await finish(h);
});

Deno.test("ipv4 options: epoch maps the clock to the time of day", async () => {
  // An epoch that puts clock 0 at 23:59:59.000 UT.
  const h = host({ plugins: { ipv4: { epoch: (DAY_MS - 1000) * 1000 } } });
  h.runFor(1_500_000); // 00:00:00.500 the next day
  const out = h.inject(echoWith([68, 12, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
  assert.deepEqual(optionsOf(out[0]!), [
    { kind: "timestamp", pointer: 13, overflow: 0, flag: 0, words: [500, 500] },
  ]);
  await finish(h);
});

Deno.test("ipv4 options: Timestamp with addresses records 10.0.0.1 and the time", async () => {
  const h = host();
  h.runFor(2_000_000);
  const out = h.inject(echoWith([68, 28, 5, 1, ...new Array(24).fill(0)]));
  assert.deepEqual(optionsOf(out[0]!), [
    { kind: "timestamp", pointer: 21, overflow: 0, flag: 1, words: [US, 2000, US, 2000, 0, 0] },
  ]);
  await finish(h);
});

Deno.test("ipv4 options: a full Timestamp at overflow 14 reaches 15 and is still echoed", async () => {
  const h = host();
  const out = h.inject(echoWith([68, 8, 9, 0xe0, 0, 0, 0, 7]));
  assert.equal(out.length, 1);
  assert.deepEqual(optionsOf(out[0]!), [
    { kind: "timestamp", pointer: 9, overflow: 15, flag: 0, words: [7] },
  ]);
  assert.equal(h.counter("dispatcher.plugin_fault"), 0);
  await finish(h);
});

Deno.test("ipv4 options: a full Timestamp has its overflow counted once on receive", async () => {
  const h = host();
  const out = h.inject(echoWith([68, 8, 9, 0x20, 0, 0, 0, 7]));
  assert.deepEqual(optionsOf(out[0]!), [
    // Linux counts the hop it could not record on receive; the reply adds none.
    { kind: "timestamp", pointer: 9, overflow: 3, flag: 0, words: [7] },
  ]);
  await finish(h);
});

for (
  const [what, options, pointer] of [
    ["Record Route with pointer 3", [7, 7, 3, 0, 0, 0, 0, 0], 22],
    ["an option length running past the header", [1, 7, 11, 4, 0, 0, 0, 0], 22],
    ["an option length of 0", [1, 1, 148, 0], 23],
    ["a Timestamp with flag 2", [68, 8, 5, 2, 0, 0, 0, 0], 23],
    ["two Router Alerts", [148, 4, 0, 0, 148, 4, 0, 0], 24],
    ["a full Timestamp with overflow 15", [68, 8, 9, 0xf0, 0, 0, 0, 0], 23],
  ] as const
) {
  Deno.test(`ipv4 options: ${what} → Parameter Problem with pointer ${pointer}`, async () => {
    const h = host();
    const request = echoWith([...options]);
    const out = h.inject(request);
    assert.equal(out.length, 1);
    checkIpv4(
      { src: "10.0.0.1", dst: "10.0.0.2", protocol: 1 },
      checkIcmp({ type: 12, code: 0 }),
    )(out[0]!);
    assert.equal(out[0]![20 + 4], pointer); // the pointer octet
    // The quote starts with the offending header, as received.
    assert.deepEqual(out[0]!.subarray(28, 28 + 28), request.subarray(0, 28));
    assert.equal(h.counter("ipv4.rx.bad_options"), 1);
    assert.equal(h.counter("icmp.tx.parameter_problem"), 1);
    assert.equal(h.counter("icmp.rx.echo_requests"), 0);
    // tshark rightly complains about the malformed option quoted in the error.
    await finish(h, [QUOTED_WARNINGS]);
  });
}

Deno.test("ipv4 options: Parameter Problems are rate limited like other ICMP errors", async () => {
  const h = host();
  let sent = 0;
  for (let i = 0; i < 10; i++) sent += h.inject(echoWith([7, 7, 3, 0, 0, 0, 0, 0], i)).length;
  assert.equal(sent, 6); // burst 6 per destination (Linux XRLIM_BURST_FACTOR)
  assert.equal(h.counter("ipv4.rx.bad_options"), 10);
  assert.equal(h.counter("icmp.tx.rate_limited"), 4);
  await finish(h, [QUOTED_WARNINGS]);
});

Deno.test("ipv4 options: a loose source route is dropped and counted, no reply", () => {
  const h = host();
  assert.deepEqual(h.inject(echoWith([131, 7, 8, 10, 0, 0, 1, 0])), []);
  assert.equal(h.counter("ipv4.rx.source_route"), 1);
  assert.equal(h.counter("icmp.rx.echo_requests"), 0);
  assert.deepEqual(h.inject(echoWith([137, 7, 4, 10, 0, 0, 1, 0])), []);
  assert.equal(h.counter("ipv4.rx.source_route"), 2);
  h.finish();
});

Deno.test("ipv4 options: acceptSourceRoute lets a completed source route through", async () => {
  const h = host({ plugins: { ipv4: { acceptSourceRoute: true } } });
  const out = h.inject(echoWith([131, 7, 8, 10, 0, 0, 1, 0]));
  assert.equal(out.length, 1);
  checkIcmp({ type: 0 })(out[0]!.subarray(20)); // the reply carries no options
  assert.equal(h.counter("ipv4.rx.source_route"), 0);
  await finish(h);
});

Deno.test("ipv4 options: Router Alert sets PacketFlags.ROUTER_ALERT for the protocol", () => {
  const seen: number[] = [];
  const probe = testPlugin({
    name: "ra_probe",
    layer: "transport",
    binds: [{ table: "ip.protocol", key: 253 }],
  }, () => ({
    receive(pkt) {
      seen.push(pkt.flags & PacketFlags.ROUTER_ALERT);
      return CONSUMED;
    },
  }));
  const h = makeHost({ linkType: 101, extraPlugins: [probe] });
  const payload = new Uint8Array(8);
  h.inject(ipv4Packet({
    src: "10.0.0.2",
    dst: "10.0.0.1",
    protocol: 253,
    options: new Uint8Array([148, 4, 0, 0]),
  }, payload));
  h.inject(ipv4Packet({ src: "10.0.0.2", dst: "10.0.0.1", protocol: 253 }, payload));
  assert.deepEqual(seen, [PacketFlags.ROUTER_ALERT, 0]);
  h.finish();
});

Deno.test("ipv4 options: unknown options are skipped by length and the echo is answered", async () => {
  const h = host();
  const out = h.inject(echoWith([130, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]));
  assert.equal(out.length, 1);
  assert.equal(out[0]![0], 0x45); // Security is not reflected
  await finish(h);
});

Deno.test("ipv4 options: a fragmented echo request with Record Route: the reassembled reply reflects it", async () => {
  const h = host();
  const rr = new Uint8Array([1, 7, 39, 8, 10, 0, 0, 2, ...new Array(32).fill(0)]);
  const data = Uint8Array.from({ length: 2000 }, (_, i) => i & 0xff);
  const icmp = icmpEcho({ identifier: 5, sequence: 6, data });
  const base = { src: "10.0.0.2", dst: "10.0.0.1", protocol: 1, id: 77 };
  // First fragment: the whole options area, 1440 payload bytes; the second: no options (RR is not copied).
  h.inject(
    ipv4Packet({ ...base, options: rr, moreFragments: true }, icmp.subarray(0, 1440)),
  );
  const out = h.inject(ipv4Packet({ ...base, fragmentOffset: 180 }, icmp.subarray(1440)));
  assert.equal(h.counter("ipv4.rx.reassembled"), 1);
  assert.equal(out.length, 2); // the 2068-byte reply leaves in two fragments
  assert.deepEqual(optionsOf(out[0]!), [
    { kind: "record_route", pointer: 16, addresses: [PEER, US, US, 0, 0, 0, 0, 0, 0] },
    { kind: "end" },
  ]);
  assert.equal(out[1]![0], 0x45); // RR is not copied into later fragments
  await finish(h);
});
