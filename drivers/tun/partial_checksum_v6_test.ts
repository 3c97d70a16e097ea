/**
 * A TCP/IPv6 segment whose checksum Linux left partial (`NEEDS_CSUM`) stays
 * partial (`partialTcpV6`, through `partialTcp`) only when TCP follows the
 * fixed header at csum_start with the field at csum_offset 16; anything else
 * is completed by the driver.
 */
import assert from "node:assert/strict";
import {
  partialTcp,
  partialTcpV6,
  VIRTIO_NET_HDR_F_DATA_VALID,
  VIRTIO_NET_HDR_F_NEEDS_CSUM,
} from "./vnet.ts";

/** An IPv6/TCP packet fd00::1 → fd00::2 with `payload` bytes of data (the checksum is not read here). */
function segment(payload: number): Uint8Array {
  const b = new Uint8Array(40 + 20 + payload);
  b.set([0x60, 0, 0, 0, (20 + payload) >> 8, (20 + payload) & 0xff, 6, 64]);
  b[8] = b[24] = 0xfd;
  b[23] = 1;
  b[39] = 2;
  b[40 + 12] = 5 << 4;
  return b;
}

function frame(flags: number, csumStart: number, csumOffset: number, ip: Uint8Array): Uint8Array {
  const b = new Uint8Array(10 + ip.length);
  b.set([flags, 4, 0, 0, 0, 0, csumStart, 0, csumOffset, 0]);
  b.set(ip, 10);
  return b;
}

Deno.test("partialTcpV6(): only a TCP/IPv6 checksum Linux left partial at the TCP checksum field stays partial", () => {
  const seg = segment(100);
  const NEEDS = VIRTIO_NET_HDR_F_NEEDS_CSUM, VALID = VIRTIO_NET_HDR_F_DATA_VALID;
  const cases: [string, Uint8Array, number][] = [
    ["TCPv6 partial", frame(NEEDS, 40, 16, seg), 50],
    ["DATA_VALID only (complete already)", frame(VALID, 0, 0, seg), -1],
    ["NEEDS_CSUM with DATA_VALID", frame(NEEDS | VALID, 40, 16, seg), -1],
    ["csum_offset not the TCP checksum", frame(NEEDS, 40, 6, seg), -1],
    ["csum_start not the TCP header", frame(NEEDS, 48, 8, seg), -1],
  ];
  const udp = seg.slice();
  udp[6] = 17;
  cases.push(["UDP", frame(NEEDS, 40, 6, udp), -1]);
  const hopByHop = seg.slice();
  hopByHop[6] = 0; // an extension header first: TCP is not at +40
  cases.push(["an extension header", frame(NEEDS, 40, 16, hopByHop), -1]);
  const short = seg.slice();
  short[5] = 121; // 120 bytes of TCP: the payload length does not fill the frame
  cases.push(["payload length not the frame's", frame(NEEDS, 40, 16, short), -1]);
  const header = segment(0).subarray(0, 50); // half a TCP header
  header[5] = 10;
  cases.push(["a TCP header cut short", frame(NEEDS, 40, 16, header), -1]);
  const v4 = seg.slice();
  v4[0] = 0x45;
  cases.push(["not IPv6", frame(NEEDS, 40, 16, v4), -1]);
  for (const [name, b, want] of cases) {
    assert.equal(partialTcpV6(b, 0, 10, 10, b.length), want, name);
    if (b[10]! >>> 4 === 6) assert.equal(partialTcp(b, 0, 10, 10, b.length), want, name);
  }
});

Deno.test("partialTcp(): dispatches on the IP version (an IPv4 segment still goes to partialTcpV4)", () => {
  const b = new Uint8Array(10 + 40);
  b.set([VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 0, 0, 0, 20, 0, 16, 0]);
  b.set([0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6], 10); // IPv4, 40 bytes, DF, TCP
  assert.equal(partialTcp(b, 0, 10, 10, b.length), 30);
  assert.equal(partialTcpV6(b, 0, 10, 10, b.length), -1);
  const v6 = frame(VIRTIO_NET_HDR_F_NEEDS_CSUM, 40, 16, segment(0));
  assert.equal(partialTcp(v6, 0, 10, 10, v6.length), 50);
});
