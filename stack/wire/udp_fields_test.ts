import assert from "node:assert/strict";
import { captureFrames } from "../../tests/_frames.ts";
import { UDP_HEADER_LEN, UdpPacket } from "./udp.ts";
import {
  setUdpChecksumField,
  setUdpDstPort,
  setUdpLength,
  setUdpSrcPort,
  udpChecksumField,
  udpDstPort,
  udpLength,
  udpSrcPort,
} from "./udp_fields.ts";

// dns_query_response.pcapng: a DNS query and its response; UDP after
// Ethernet and a 20-byte IPv4 header.
const DNS_FRAMES = captureFrames("dns_query_response.pcapng");
const UDP_AT = 14 + 20;

Deno.test("udp accessors read the DNS query and response at their offset in the frame", () => {
  const [query, response] = DNS_FRAMES;
  // tshark -T fields -e udp.srcport -e udp.dstport -e udp.length -e udp.checksum
  assert.deepEqual(
    [udpSrcPort(query!, UDP_AT), udpDstPort(query!, UDP_AT), udpLength(query!, UDP_AT)],
    [1060, 53, 39],
  );
  assert.equal(udpChecksumField(query!, UDP_AT), 0x036d);
  assert.deepEqual(
    [udpSrcPort(response!, UDP_AT), udpDstPort(response!, UDP_AT), udpLength(response!, UDP_AT)],
    [53, 1060, 55],
  );
  assert.equal(udpChecksumField(response!, UDP_AT), 0x3c20);
});

Deno.test("udp setters rebuild the captured header byte for byte, touching nothing else", () => {
  for (const frame of DNS_FRAMES) {
    const copy = frame.slice();
    copy.fill(0, UDP_AT, UDP_AT + UDP_HEADER_LEN);
    setUdpSrcPort(copy, UDP_AT, udpSrcPort(frame, UDP_AT));
    setUdpDstPort(copy, UDP_AT, udpDstPort(frame, UDP_AT));
    setUdpLength(copy, UDP_AT, udpLength(frame, UDP_AT));
    setUdpChecksumField(copy, UDP_AT, udpChecksumField(frame, UDP_AT));
    assert.deepEqual(copy, frame);
  }
});

Deno.test("UdpPacket reads through the same accessors as the plugin", () => {
  const frame = DNS_FRAMES[0]!;
  const view = UdpPacket.check(frame.subarray(UDP_AT));
  assert.ok(typeof view !== "string");
  assert.deepEqual(
    [view.srcPort, view.dstPort, view.length, view.checksum],
    [
      udpSrcPort(frame, UDP_AT),
      udpDstPort(frame, UDP_AT),
      udpLength(frame, UDP_AT),
      udpChecksumField(frame, UDP_AT),
    ],
  );
});
