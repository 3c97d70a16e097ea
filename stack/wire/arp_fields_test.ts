import assert from "node:assert/strict";
import { captureFrames } from "../../tests/_frames.ts";
import { formatMac } from "./address.ts";
import { ArpPacket } from "./arp.ts";
import {
  ARP_SENDER_MAC_OFFSET,
  ARP_TARGET_MAC_OFFSET,
  arpHardwareLength,
  arpHardwareType,
  arpOperation,
  arpProtocolLength,
  arpProtocolType,
  arpSenderIp,
  arpTargetIp,
  setArpHardwareLength,
  setArpHardwareType,
  setArpOperation,
  setArpProtocolLength,
  setArpProtocolType,
  setArpSenderIp,
  setArpTargetIp,
} from "./arp_fields.ts";
import { dataViewOf } from "./_decode_util.ts";

const ARP_AT = 14;
const [REQUEST, REPLY] = captureFrames("arp_resolution.pcapng");

Deno.test("arp accessors read the request and reply of arp_resolution.pcapng", () => {
  // tshark -e arp.opcode -e arp.src.hw_mac -e arp.src.proto_ipv4 -e arp.dst.hw_mac -e arp.dst.proto_ipv4
  const rows = [REQUEST!, REPLY!].map((f) => [
    arpHardwareType(dataViewOf(f), ARP_AT),
    arpProtocolType(dataViewOf(f), ARP_AT),
    arpHardwareLength(dataViewOf(f), ARP_AT),
    arpProtocolLength(dataViewOf(f), ARP_AT),
    arpOperation(dataViewOf(f), ARP_AT),
    formatMac(f, ARP_AT + ARP_SENDER_MAC_OFFSET),
    arpSenderIp(dataViewOf(f), ARP_AT),
    formatMac(f, ARP_AT + ARP_TARGET_MAC_OFFSET),
    arpTargetIp(dataViewOf(f), ARP_AT),
  ]);
  assert.deepEqual(rows, [
    [1, 0x0800, 6, 4, 1, "00:16:ce:6e:8b:24", 0xc0a80072, "00:00:00:00:00:00", 0xc0a80001],
    [1, 0x0800, 6, 4, 2, "00:13:46:0b:22:ba", 0xc0a80001, "00:16:ce:6e:8b:24", 0xc0a80072],
  ]);
});

Deno.test("arp setters rebuild the captured packets byte for byte, touching nothing else", () => {
  for (const f of [REQUEST!, REPLY!]) {
    const copy = f.slice();
    for (const [from, to] of [[0, 8], [14, 18], [24, 28]]) {
      copy.fill(0, ARP_AT + from!, ARP_AT + to!); // the fields, not the MACs
    }
    setArpHardwareType(dataViewOf(copy), ARP_AT, arpHardwareType(dataViewOf(f), ARP_AT));
    setArpProtocolType(dataViewOf(copy), ARP_AT, arpProtocolType(dataViewOf(f), ARP_AT));
    setArpHardwareLength(dataViewOf(copy), ARP_AT, arpHardwareLength(dataViewOf(f), ARP_AT));
    setArpProtocolLength(dataViewOf(copy), ARP_AT, arpProtocolLength(dataViewOf(f), ARP_AT));
    setArpOperation(dataViewOf(copy), ARP_AT, arpOperation(dataViewOf(f), ARP_AT));
    setArpSenderIp(dataViewOf(copy), ARP_AT, arpSenderIp(dataViewOf(f), ARP_AT));
    setArpTargetIp(dataViewOf(copy), ARP_AT, arpTargetIp(dataViewOf(f), ARP_AT));
    assert.deepEqual(copy, f);
  }
});

Deno.test("ArpPacket reads through the same accessors as the decoder", () => {
  const view = ArpPacket.check(REPLY!.subarray(ARP_AT));
  assert.ok(typeof view !== "string");
  assert.deepEqual(
    [view.operation, view.senderIp, view.targetIp, formatMac(view.senderMac, 0)],
    [2, 0xc0a80001, 0xc0a80072, "00:13:46:0b:22:ba"],
  );
});
