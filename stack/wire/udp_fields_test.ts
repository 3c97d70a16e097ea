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
import { dataViewOf } from "./_decode_util.ts";

// dns_query_response.pcapng: a DNS query and its response; UDP after
// Ethernet and a 20-byte IPv4 header.
const DNS_FRAMES = captureFrames("dns_query_response.pcapng");
const UDP_AT = 14 + 20;

Deno.test("udp accessors read the DNS query and response at their offset in the frame", () => {
  const [query, response] = DNS_FRAMES;
  // tshark -T fields -e udp.srcport -e udp.dstport -e udp.length -e udp.checksum
  assert.deepEqual(
    [
      udpSrcPort(dataViewOf(query!), UDP_AT),
      udpDstPort(dataViewOf(query!), UDP_AT),
      udpLength(dataViewOf(query!), UDP_AT),
    ],
    [1060, 53, 39],
  );
  assert.equal(udpChecksumField(dataViewOf(query!), UDP_AT), 0x036d);
  assert.deepEqual(
    [
      udpSrcPort(dataViewOf(response!), UDP_AT),
      udpDstPort(dataViewOf(response!), UDP_AT),
      udpLength(dataViewOf(response!), UDP_AT),
    ],
    [53, 1060, 55],
  );
  assert.equal(udpChecksumField(dataViewOf(response!), UDP_AT), 0x3c20);
});

Deno.test("udp setters rebuild the captured header byte for byte, touching nothing else", () => {
  for (const frame of DNS_FRAMES) {
    const copy = frame.slice();
    copy.fill(0, UDP_AT, UDP_AT + UDP_HEADER_LEN);
    setUdpSrcPort(dataViewOf(copy), UDP_AT, udpSrcPort(dataViewOf(frame), UDP_AT));
    setUdpDstPort(dataViewOf(copy), UDP_AT, udpDstPort(dataViewOf(frame), UDP_AT));
    setUdpLength(dataViewOf(copy), UDP_AT, udpLength(dataViewOf(frame), UDP_AT));
    setUdpChecksumField(dataViewOf(copy), UDP_AT, udpChecksumField(dataViewOf(frame), UDP_AT));
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
      udpSrcPort(dataViewOf(frame), UDP_AT),
      udpDstPort(dataViewOf(frame), UDP_AT),
      udpLength(dataViewOf(frame), UDP_AT),
      udpChecksumField(dataViewOf(frame), UDP_AT),
    ],
  );
});
