/**
 * The header accessors of `stack/wire/*_fields.ts` (functions over the
 * packet's `DataView`) against the hand-written `DataView` reads and writes
 * they replaced in the plugins, side by side in
 * one process (so a loaded machine slows both alike): the TCP receive path's
 * header reads, the TCP output path's header writes, and the UDP receive
 * path's reads. Each iteration handles 1024 headers at the offsets a pooled
 * buffer gives (headroom 128, then 14 + 20 bytes of Ethernet and IPv4).
 *
 * `deno bench --allow-all bench/wire_fields_bench.ts`
 *
 * @module
 */
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
  tcpDstPort,
  tcpFlags,
  tcpHeaderLen,
  tcpSeq,
  tcpSrcPort,
  tcpWindow,
} from "../stack/wire/tcp_fields.ts";
import { udpChecksumField, udpDstPort, udpLength, udpSrcPort } from "../stack/wire/udp_fields.ts";

const N = 1024;
const SLOTS = 16;
const SLOT = 2048;
const buf = new Uint8Array(SLOTS * SLOT);
const dv = new DataView(buf.buffer);
const L4 = 128 + 14 + 20;
for (let k = 0; k < SLOTS; k++) {
  const s = k * SLOT + L4;
  // A data segment: ports, seq, ack, data offset 8 (timestamps), ACK|PSH, window.
  buf.set([0xd7, 0x70, 0x00, 0x50, 0x37, 0x58, 0x89, 0x7f + k, 0x37, 0x7a, 0x9e, 0xf2], s);
  buf.set([0x80, 0x18, 0x20, 0x00, 0xfe, 0xf2, 0, 0], s + 12);
}

let sink = 0;

Deno.bench({
  name: "tcp header read: wire accessors",
  group: "tcp read",
  baseline: true,
  fn() {
    let x = 0;
    for (let i = 0; i < N; i++) {
      const s = (i & (SLOTS - 1)) * SLOT + L4;
      x += tcpSrcPort(dv, s) + tcpDstPort(dv, s) + tcpHeaderLen(dv, s) + tcpFlags(dv, s) +
        tcpWindow(dv, s);
      x = (x + tcpSeq(dv, s) + tcpAck(dv, s)) >>> 0;
    }
    sink ^= x;
  },
});

Deno.bench({
  name: "tcp header read: DataView, as the plugin did before",
  group: "tcp read",
  fn() {
    let x = 0;
    for (let i = 0; i < N; i++) {
      const s = (i & (SLOTS - 1)) * SLOT + L4;
      x += dv.getUint16(s) + dv.getUint16(s + 2) + ((buf[s + 12]! >> 4) << 2) +
        (dv.getUint16(s + 12) & 0x1ff) + dv.getUint16(s + 14);
      x = (x + dv.getUint32(s + 4) + dv.getUint32(s + 8)) >>> 0;
    }
    sink ^= x;
  },
});

Deno.bench({
  name: "tcp header write: wire accessors",
  group: "tcp write",
  baseline: true,
  fn() {
    for (let i = 0; i < N; i++) {
      const s = (i & (SLOTS - 1)) * SLOT + L4;
      setTcpSrcPort(dv, s, 55920);
      setTcpDstPort(dv, s, 80);
      setTcpSeq(dv, s, 928549247 + i);
      setTcpAck(dv, s, 930778610);
      setTcpHeaderLenAndFlags(dv, s, 32, 0x18);
      setTcpWindow(dv, s, 8192);
      setTcpChecksumField(dv, s, 0);
      setTcpUrgentPointer(dv, s, 0);
    }
    sink ^= buf[L4 + 7]!;
  },
});

Deno.bench({
  name: "tcp header write: DataView, as the plugin did before",
  group: "tcp write",
  fn() {
    for (let i = 0; i < N; i++) {
      const s = (i & (SLOTS - 1)) * SLOT + L4;
      dv.setUint16(s, 55920);
      dv.setUint16(s + 2, 80);
      dv.setUint32(s + 4, (928549247 + i) >>> 0);
      dv.setUint32(s + 8, 930778610 >>> 0);
      dv.setUint16(s + 12, ((32 >>> 2) << 12) | 0x18);
      dv.setUint16(s + 14, 8192);
      dv.setUint32(s + 16, 0);
    }
    sink ^= buf[L4 + 7]!;
  },
});

Deno.bench({
  name: "udp header read: wire accessors",
  group: "udp read",
  baseline: true,
  fn() {
    let x = 0;
    for (let i = 0; i < N; i++) {
      const s = (i & (SLOTS - 1)) * SLOT + L4;
      x += udpSrcPort(dv, s) + udpDstPort(dv, s) + udpLength(dv, s) + udpChecksumField(dv, s);
    }
    sink ^= x;
  },
});

Deno.bench({
  name: "udp header read: DataView, as the plugin did before",
  group: "udp read",
  fn() {
    let x = 0;
    for (let i = 0; i < N; i++) {
      const s = (i & (SLOTS - 1)) * SLOT + L4;
      x += dv.getUint16(s) + dv.getUint16(s + 2) + dv.getUint16(s + 4) + dv.getUint16(s + 6);
    }
    sink ^= x;
  },
});

addEventListener("unload", () => {
  if (sink === 0.5) throw new Error("unreachable: keeps the results alive");
});
