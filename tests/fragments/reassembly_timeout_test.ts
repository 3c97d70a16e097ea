import assert from "node:assert/strict";
import {
  arpPacket,
  checkEthernet,
  checkIcmp,
  checkIpv4,
  ethernetFrame,
  framesMatching,
  type Host,
  type HostOptions,
  ipv4Packet,
  makeHost,
} from "../_harness.ts";
import { assertTsharkClean } from "../_tshark.ts";
import { REASSEMBLY_MIN_PER_SOURCE } from "../../stack/protocols/ipv4/reassembly.ts";

const US = "02:00:00:00:00:01";
const PEER = "02:00:00:00:00:99";
const SECOND = 1_000_000;

/** The IPv4 frames among `frames` (not the ARP probes a stale entry causes). */
function ip(frames: Uint8Array[]): Uint8Array[] {
  return framesMatching(frames, checkEthernet({ etherType: 0x0800 }));
}

function host(options: HostOptions = {}): Host {
  const h = makeHost({ mac: US, addresses: ["10.0.0.1/24"], capture: true, ...options });
  h.inject(
    ethernetFrame(
      { dst: "ff:ff:ff:ff:ff:ff", src: PEER, etherType: 0x0806 },
      arpPacket({ operation: 1, senderMac: PEER, senderIp: "10.0.0.9", targetIp: "10.0.0.1" }),
    ),
  );
  h.take();
  return h;
}

/** A UDP-protocol fragment from 10.0.0.9: `len` bytes at `offset` (bytes). */
function fragment(offset: number, len: number, mf: boolean, id = 0x4242): Uint8Array {
  return ethernetFrame(
    { dst: US, src: PEER, etherType: 0x0800 },
    ipv4Packet(
      {
        src: "10.0.0.9",
        dst: "10.0.0.1",
        protocol: 17,
        id,
        moreFragments: mf,
        fragmentOffset: offset / 8,
      },
      Uint8Array.from({ length: len }, (_, i) => (offset + i) & 0xff),
    ),
  );
}

Deno.test("reassembly timeout after 30 s sends time exceeded (code 1) when the first fragment came", () => {
  const h = host();
  assert.deepEqual(h.inject(fragment(0, 64, true)), []);
  assert.deepEqual(h.inject(fragment(128, 64, false)), [], "the hole at 64..128 stays open");
  assert.deepEqual(
    h.inject(fragment(64, 64, true, 0x4343)),
    [],
    "another datagram, no first fragment",
  );
  h.runFor(30 * SECOND - 1);
  assert.deepEqual(ip(h.take()), []);
  h.runFor(1);
  const out = ip(h.take());
  assert.equal(out.length, 1, "one error: the datagram without its first fragment is silent");
  checkEthernet(
    { dst: PEER },
    checkIpv4({ src: "10.0.0.1", dst: "10.0.0.9", protocol: 1 }, checkIcmp({ type: 11, code: 1 })),
  )(out[0]!);
  // The quote: the first fragment's header (MF, id 0x4242) and the data received from offset 0.
  const quoted = out[0]!.subarray(14 + 20 + 8);
  checkIpv4({ src: "10.0.0.9", dst: "10.0.0.1", id: 0x4242, totalLength: 84 })(quoted);
  assert.equal(quoted.length, 84);
  assert.equal(h.counter("ipv4.rx.reasm_timeout"), 2);
  assert.equal(h.counter("icmp.tx.time_exceeded"), 1);
  assert.equal(h.stack.pendingTimers > 0, true, "ARP's timer may remain");
  h.finish();
});

Deno.test("reassembly a lost fragment leaves nothing delivered, and memory is given back", async () => {
  const h = host();
  for (let i = 0; i < 10; i++) h.inject(fragment(0, 1480, true, i));
  h.runFor(31 * SECOND);
  assert.equal(h.counter("ipv4.rx.reasm_timeout"), 10);
  assert.equal(h.counter("ipv4.rx.reassembled"), 0);
  assert.equal(h.counter("icmp.tx.time_exceeded"), 6, "rate limited: a burst of 6 per destination");
  assert.equal(h.stack.pool.outstanding, 0, "every reassembly buffer went back to the pool");
  await assertTsharkClean(h.capture!.bytes());
  h.finish();
});

Deno.test("reassembly a completed datagram for a protocol nobody binds gets protocol unreachable", () => {
  const h = host();
  const frame = (offset: number, len: number, mf: boolean) =>
    ethernetFrame(
      { dst: US, src: PEER, etherType: 0x0800 },
      ipv4Packet(
        {
          src: "10.0.0.9",
          dst: "10.0.0.1",
          protocol: 253,
          id: 7,
          moreFragments: mf,
          fragmentOffset: offset / 8,
        },
        new Uint8Array(len),
      ),
    );
  assert.deepEqual(h.inject(frame(800, 200, false)), []);
  const out = h.inject(frame(0, 800, true));
  assert.equal(out.length, 1);
  checkEthernet({}, checkIpv4({ protocol: 1 }, checkIcmp({ type: 3, code: 2 })))(out[0]!);
  // It quotes the reassembled datagram: total length 1020, no MF.
  const quoted = out[0]!.subarray(14 + 28);
  assert.equal(new DataView(quoted.buffer, quoted.byteOffset).getUint16(2), 1020);
  assert.equal(quoted[6]! & 0x3f, 0);
  assert.equal(h.counter("ipv4.rx.unknown_protocol"), 1);
  h.finish();
});

Deno.test("reassembly endless first fragments with new identifications stay within the caps", () => {
  const h = host({ plugins: { icmp: { ratelimit: 0, msgsPerSecond: 0 } } });
  for (let id = 0; id < 500; id++) h.inject(fragment(0, 1480, true, id));
  // One source: it holds at most its own share (issue 16), evicting its oldest.
  assert.equal(h.counter("ipv4.rx.reasm_evicted"), 500 - REASSEMBLY_MIN_PER_SOURCE);
  h.runFor(30 * SECOND);
  assert.equal(h.counter("ipv4.rx.reasm_timeout"), REASSEMBLY_MIN_PER_SOURCE);
  h.finish();
});

Deno.test("reassembly the IPv4 option reassemblyMaxPerSource sets one source's share", () => {
  const h = host({
    plugins: { icmp: { ratelimit: 0, msgsPerSecond: 0 }, ipv4: { reassemblyMaxPerSource: 3 } },
  });
  for (let id = 0; id < 10; id++) h.inject(fragment(0, 1480, true, id));
  assert.equal(h.counter("ipv4.rx.reasm_evicted"), 7);
  h.runFor(30 * SECOND);
  assert.equal(h.counter("ipv4.rx.reasm_timeout"), 3);
  h.finish();
});

Deno.test("reassembly a negative reassemblyMaxPerSource is refused at boot", () => {
  assert.throws(() => host({ plugins: { ipv4: { reassemblyMaxPerSource: -1 } } }), RangeError);
});
