import assert from "node:assert/strict";
import { captureFrames } from "../../tests/_frames.ts";
import { ipv4TotalLength } from "./ipv4_fields.ts";
import { TCP_ACK, TCP_PSH, TCP_SYN, TcpPacket } from "./tcp.ts";
import {
  setTcpAck,
  setTcpChecksumField,
  setTcpDstPort,
  setTcpHeaderLenAndFlags,
  setTcpSeq,
  setTcpSrcPort,
  setTcpUrgentPointer,
  setTcpWindow,
  tcpAck,
  tcpChecksumField,
  tcpDstPort,
  tcpFlags,
  tcpHeaderLen,
  tcpSeq,
  tcpSrcPort,
  tcpUrgentPointer,
  tcpWindow,
} from "./tcp_fields.ts";
import { dataViewOf } from "./_decode_util.ts";

// print-flags.pcap: a loopback HTTP connection framed as Ethernet; TCP after
// a 20-byte IPv4 header.
const FLOW = captureFrames("print-flags.pcap");
const TCP_AT = 14 + 20;

Deno.test("tcp accessors read the handshake and first data segment of print-flags.pcap", () => {
  // tshark -e tcp.srcport -e tcp.seq_raw -e tcp.ack_raw -e tcp.window_size_value
  //        -e tcp.checksum -e tcp.hdr_len -e tcp.flags
  const rows = FLOW.slice(0, 4).map((f) => [
    tcpSrcPort(dataViewOf(f), TCP_AT),
    tcpDstPort(dataViewOf(f), TCP_AT),
    tcpSeq(dataViewOf(f), TCP_AT),
    tcpAck(dataViewOf(f), TCP_AT),
    tcpWindow(dataViewOf(f), TCP_AT),
    tcpChecksumField(dataViewOf(f), TCP_AT),
    tcpHeaderLen(dataViewOf(f), TCP_AT),
    tcpFlags(dataViewOf(f), TCP_AT),
  ]);
  assert.deepEqual(rows, [
    [55920, 80, 928549246, 0, 32767, 0x1421, 40, TCP_SYN],
    [80, 55920, 930778609, 928549247, 32767, 0x6eb1, 40, TCP_SYN | TCP_ACK],
    [55920, 80, 928549247, 930778610, 8192, 0x37d0, 32, TCP_ACK],
    [55920, 80, 928549247, 930778610, 8192, 0xfef2, 32, TCP_PSH | TCP_ACK],
  ]);
  assert.equal(tcpUrgentPointer(dataViewOf(FLOW[0]!), TCP_AT), 0);
});

Deno.test("tcp accessors see the data offset that tcp-malformed.pcap says is too long", () => {
  const f = captureFrames("tcp-malformed.pcap")[0]!;
  assert.equal(tcpHeaderLen(dataViewOf(f), TCP_AT), 28); // tcpdump: bad hdr length 28 - too long
  assert.equal(ipv4TotalLength(dataViewOf(f), 14) - 20, 20); // the IP payload holds only 20
});

Deno.test("tcp setters rebuild the captured headers byte for byte, touching nothing else", () => {
  for (const f of FLOW) {
    const copy = f.slice();
    copy.fill(0, TCP_AT, TCP_AT + 20);
    setTcpSrcPort(dataViewOf(copy), TCP_AT, tcpSrcPort(dataViewOf(f), TCP_AT));
    setTcpDstPort(dataViewOf(copy), TCP_AT, tcpDstPort(dataViewOf(f), TCP_AT));
    setTcpSeq(dataViewOf(copy), TCP_AT, tcpSeq(dataViewOf(f), TCP_AT));
    setTcpAck(dataViewOf(copy), TCP_AT, tcpAck(dataViewOf(f), TCP_AT));
    setTcpHeaderLenAndFlags(
      dataViewOf(copy),
      TCP_AT,
      tcpHeaderLen(dataViewOf(f), TCP_AT),
      tcpFlags(dataViewOf(f), TCP_AT),
    );
    setTcpWindow(dataViewOf(copy), TCP_AT, tcpWindow(dataViewOf(f), TCP_AT));
    setTcpChecksumField(dataViewOf(copy), TCP_AT, tcpChecksumField(dataViewOf(f), TCP_AT));
    setTcpUrgentPointer(dataViewOf(copy), TCP_AT, tcpUrgentPointer(dataViewOf(f), TCP_AT));
    assert.deepEqual(copy, f);
  }
});

Deno.test("tcp sequence numbers above 2^31 read unsigned and write back", () => {
  const b = new Uint8Array(20);
  setTcpSeq(dataViewOf(b), 0, 0xfffffff0);
  setTcpAck(dataViewOf(b), 0, -16); // the same 32 bits
  assert.equal(tcpSeq(dataViewOf(b), 0), 0xfffffff0);
  assert.equal(tcpAck(dataViewOf(b), 0), 0xfffffff0);
});

Deno.test("TcpPacket reads through the same accessors as the plugin", () => {
  const f = FLOW[1]!;
  const view = TcpPacket.check(f.subarray(TCP_AT));
  assert.ok(typeof view !== "string");
  assert.deepEqual(
    [view.srcPort, view.dstPort, view.seqNumber, view.ackNumber, view.headerLength, view.flags],
    [80, 55920, 930778609, 928549247, 40, TCP_SYN | TCP_ACK],
  );
  assert.ok(view.verifyChecksum({ src: 0x7f000001, dst: 0x7f000001 }));
});
