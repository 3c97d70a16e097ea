/**
 * Real captures replayed into stacks addressed as their receivers: Wireshark
 * sample fragments (with the sender's checksum offload), crafted overlaps
 * (zeek, scapy), hping3's tiny fragments, and a real PMTU discovery.
 */
import assert from "node:assert/strict";
import { PcapWriter } from "../../drivers/pcapfile/mod.ts";
import type { CaptureRecord } from "../../drivers/pcapfile/mod.ts";
import type { ArpService, Ipv4RoutesService } from "../../mod.ts";
import {
  CAPTURE_EPOCH,
  checkEthernet,
  checkIcmp,
  checkIpv4,
  framesMatching,
  type Host,
  type HostOptions,
  ip,
  mac,
  makeHost,
  pcapRecords,
} from "../_harness.ts";
import { assertTsharkClean } from "../_tshark.ts";
import { kernelOf } from "../../stack/stack.ts";

const SECOND = 1_000_000;

/**
 * Feeds `records` to the host in order, the clock following their
 * timestamps (gaps capped at `maxGap`, as one file jumps six years).
 */
function replay(h: Host, records: readonly CaptureRecord[], maxGap = SECOND): void {
  let last = records[0]?.timestamp ?? 0;
  for (const r of records) {
    h.runFor(Math.min(Math.max(r.timestamp - last, 0), maxGap));
    last = r.timestamp;
    kernelOf(h.stack).inject(h.iface.index, r.data);
  }
  h.runFor(0);
}

/** What the stack sent, as a pcap file (received frames are the input, not ours to judge). */
function sentCapture(h: Host, linkType: number): Uint8Array {
  const w = new PcapWriter({ linkType });
  for (const f of h.history) w.write({ timestamp: CAPTURE_EPOCH + f.at, data: f.bytes });
  return w.bytes();
}

function host(options: HostOptions): Host {
  return makeHost({ seed: 3, ...options });
}

interface Frag {
  offset: number;
  mf: boolean;
  total: number;
  payload: Uint8Array;
}

function ipFragment(frame: Uint8Array, l3 = 14): Frag {
  const dv = new DataView(frame.buffer, frame.byteOffset + l3);
  const word = dv.getUint16(6);
  const hlen = (frame[l3]! & 0x0f) * 4;
  const total = dv.getUint16(2);
  return {
    offset: (word & 0x1fff) * 8,
    mf: (word & 0x2000) !== 0,
    total,
    payload: frame.subarray(l3 + hlen, l3 + total),
  };
}

const FRAG_SOURCE = "ip_frag_source.pcapng";

Deno.test({
  name: "replay ip_frag_source: offloaded fragments (checksum 0) are dropped by a strict stack",
  fn() {
    const h = host({ mac: "00:21:29:66:71:95", addresses: ["192.168.0.128/24"] });
    replay(h, pcapRecords(FRAG_SOURCE).slice(0, 3));
    assert.equal(h.counter("ipv4.rx.bad_checksum"), 3);
    assert.equal(h.counter("ipv4.rx.fragments"), 0);
    h.finish();
  },
});

Deno.test({
  name:
    "replay ip_frag_source: with verifyChecksum off, the 3500-byte ping is reassembled and answered in 3 fragments like the capture's",
  async fn() {
    const h = host({
      mac: "00:21:29:66:71:95",
      addresses: ["192.168.0.128/24"],
      plugins: { ipv4: { verifyChecksum: false } },
    });
    h.stack.addRoute("default", { gateway: "192.168.0.1" });
    h.stack.service<ArpService>("arp.resolve")!.addStatic(
      h.iface.index,
      ip("192.168.0.1"),
      mac("00:25:b3:bf:91:ee"),
    );
    const records = pcapRecords(FRAG_SOURCE);
    replay(h, records.slice(0, 3));
    assert.equal(h.counter("ipv4.rx.fragments"), 3);
    assert.equal(h.counter("ipv4.rx.reassembled"), 1);
    assert.equal(h.counter("icmp.rx.echo_requests"), 1);
    const ours = framesMatching(
      h.take(),
      checkEthernet(
        { dst: "00:25:b3:bf:91:ee" },
        checkIpv4({ src: "192.168.0.128", dst: "10.10.0.3", protocol: 1 }),
      ),
    ).map((f) => ipFragment(f));
    const theirs = records.slice(3, 6).map((r) => ipFragment(r.data));
    // Same layout as the Windows host's reply: offsets 0/1480/2960, 1500/1500/568 bytes.
    assert.deepEqual(
      ours.map((f) => [f.offset, f.total, f.mf]),
      theirs.map((f) => [f.offset, f.total, f.mf]),
    );
    // Same ICMP bytes, fragment by fragment (an echo reply carries the request's data).
    for (let i = 0; i < 3; i++) {
      assert.deepEqual(ours[i]!.payload, theirs[i]!.payload, `fragment ${i}`);
    }
    await assertTsharkClean(sentCapture(h, 1));
    h.finish();
  },
});

Deno.test({
  name:
    "replay ip_frag_source: the fragmented echo reply is reassembled at 10.10.0.3 (no ping pending)",
  fn() {
    const h = host({ mac: "00:25:b3:bf:91:ee", addresses: ["10.10.0.3/8"] });
    replay(h, pcapRecords(FRAG_SOURCE).slice(3, 6));
    assert.equal(h.counter("ipv4.rx.reassembled"), 1);
    assert.equal(h.counter("icmp.rx.echo_replies"), 1);
    assert.equal(h.counter("icmp.rx.unmatched_reply"), 1);
    h.finish();
  },
});

const ZEEK_OVERLAP = "ipv4-fragmented-4-overlap.pcap";

Deno.test({
  name:
    "replay ipv4-fragmented-4-overlap: the overlapping fragments are discarded, nothing reassembled",
  async fn() {
    const h = host({ mac: "00:01:30:24:9d:00", addresses: ["10.0.0.1/24"] });
    h.stack.addRoute("default", { gateway: "10.0.0.254" });
    replay(h, pcapRecords(ZEEK_OVERLAP));
    assert.equal(h.counter("ipv4.rx.fragments"), 4);
    assert.equal(h.counter("ipv4.rx.reasm_overlap"), 1, "24..72 overlaps 48..72");
    assert.equal(h.counter("ipv4.rx.reassembled"), 0);
    // The unfragmented FIN (frame 6) is the only datagram that reached a protocol.
    const reached = h.counter("ipv4.rx.delivered") + h.counter("ipv4.rx.unknown_protocol");
    assert.equal(reached, 1);
    // The three fragments kept after the overlap (none at offset 0... the first was discarded
    // with the datagram) time out silently.
    h.runFor(31 * SECOND);
    assert.equal(h.counter("icmp.tx.time_exceeded"), 0);
    await assertTsharkClean(sentCapture(h, 1));
    h.finish();
  },
});

const SCAPY_OVERLAP = "linux-probes/tun-scapy_overlap.pcap";

Deno.test({
  name: "replay tun-scapy_overlap: disagreeing fragments of an echo request get no reply",
  fn() {
    const h = host({ linkType: 101, addresses: ["10.77.0.2/24"] });
    replay(h, pcapRecords(SCAPY_OVERLAP));
    assert.equal(h.counter("ipv4.rx.fragments"), 3);
    assert.equal(h.counter("ipv4.rx.reasm_overlap"), 1);
    assert.equal(h.counter("icmp.rx.echo_requests"), 0);
    h.runFor(31 * SECOND);
    assert.deepEqual(
      h.take(),
      [],
      "no reply, no time exceeded (the first fragment went with the overlap)",
    );
    h.finish();
  },
});

const HPING_FRAG = "linux-probes/tun-hping_frag.pcap";

Deno.test({
  name: "replay tun-hping_frag: SYNs split into four tiny fragments are reassembled and delivered",
  async fn() {
    const h = host({ linkType: 101, addresses: ["10.77.0.2/24"] });
    replay(h, pcapRecords(HPING_FRAG));
    assert.equal(h.counter("ipv4.rx.fragments"), 8);
    assert.equal(
      h.counter("ipv4.rx.reassembled"),
      2,
      "two SYNs, one identification reused after completion",
    );
    const reached = h.counter("ipv4.rx.delivered") + h.counter("ipv4.rx.unknown_protocol");
    assert.equal(reached, 2);
    assert.equal(h.counter("ipv4.rx.reasm_overlap"), 0);
    // With TCP loaded the answers are RSTs (port 80 is closed), which tshark flags as expected.
    await assertTsharkClean(sentCapture(h, 101), { allowWarnings: [/^Connection reset \(RST\)/] });
    h.finish();
  },
});

const SMTP_PMTU = "smtp-icmp-fragneeded.pcap";

Deno.test({
  name:
    "replay smtp-icmp-fragneeded: four fragmentation-needed errors about a connection we do not have leave the path MTU alone",
  async fn() {
    const h = host({ mac: "00:e0:1c:3c:17:c2", addresses: ["10.10.1.4/24"] });
    h.stack.addRoute("default", { gateway: "10.10.1.1" });
    assert.equal(h.stack.routeGet("74.53.140.153")!.mtu, 1500);
    replay(h, pcapRecords(SMTP_PMTU));
    assert.equal(h.counter("icmp.rx.frag_needed"), 4);
    // The SMTP connection they quote was the capturing host's, not ours
    // (RFC 5927 §4.1: believed only for a flow of ours).
    assert.equal(h.counter("tcp.rx.icmp_no_socket"), 4);
    const routes = h.stack.service<Ipv4RoutesService>("ipv4.routes")!;
    assert.equal(routes.pmtu(ip("74.53.140.153")), undefined);
    assert.equal(h.stack.routeGet("74.53.140.153")!.mtu, 1500);
    assert.equal(h.counter("dispatcher.plugin_fault"), 0);
    // Never an error about those errors.
    const aboutIcmp = framesMatching(
      h.history.map((f) => f.bytes),
      checkEthernet(
        {},
        checkIpv4({ protocol: 1 }, checkIcmp({ type: 3 }, checkIpv4({ protocol: 1 }))),
      ),
    );
    assert.equal(aboutIcmp.length, 0);
    await assertTsharkClean(sentCapture(h, 1));
    h.finish();
  },
});
