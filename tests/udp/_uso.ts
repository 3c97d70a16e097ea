/**
 * Helpers of the `segmentSize` (USO) tests: payload patterns, the datagrams
 * a send should make, a raw-IP driver with USO that keeps what it is given,
 * and what a USO device makes of a super-datagram; and tshark's view of the
 * UDP datagrams of a capture (these and the capture test).
 *
 * @module
 */
import type { DriverPort, LinkDriver } from "../../stack/driver.ts";
import type { PacketBuffer } from "../../stack/packet.ts";
import { PacketPool } from "../../stack/packet_pool.ts";
import { pseudoHeaderSumV4, sumRange } from "../../stack/wire/checksum.ts";
import { segmentUdp } from "../../stack/wire/udp_gso.ts";
import { runTshark } from "../_tshark.ts";

/** `n` bytes that differ from datagram to datagram (and within one). */
export function pattern(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + (i >>> 8)) & 0xff;
  return b;
}

/** The expected datagrams of a send of `data` in segments of `size`. */
export function cut(data: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < data.length; at += size) out.push(data.subarray(at, at + size));
  return out;
}

/** A raw-IP driver with USO that keeps what it is given. */
export class UsoDriver implements LinkDriver {
  readonly linkType = 101;
  readonly mtu = 1500;
  readonly usoMaxSize = 65535;
  readonly sent: { bytes: Uint8Array; gsoSize: number; flags: number }[] = [];
  attach(_port: DriverPort): void {}
  transmit(pkt: PacketBuffer): void {
    this.sent.push({ bytes: pkt.data.slice(), gsoSize: pkt.gsoSize, flags: pkt.flags });
    pkt.release();
  }
  close(): void {}
}

/** The datagrams a device with USO makes of `bytes` (IPv4 at 0). */
export function deviceSegments(bytes: Uint8Array, gsoSize: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  segmentUdp(bytes, 0, 0, bytes.length, gsoSize, new PacketPool(), (p) => {
    out.push(p.data.slice());
    p.release();
  });
  return out;
}

/** Whether the UDP checksum of the IPv4 datagram `d` (IHL 5) verifies. */
export function udpChecksumOk(d: Uint8Array): boolean {
  const dv = new DataView(d.buffer, d.byteOffset, d.byteLength);
  const pseudo = pseudoHeaderSumV4(dv.getUint32(12), dv.getUint32(16), 17, d.length - 20);
  return sumRange(d, 20, d.length, pseudo) === 0xffff;
}

/**
 * tshark's `fields` (`-e` names) of each UDP datagram of a capture, read
 * with UDP checksums checked: one array of values per datagram.
 */
export async function tsharkUdpFields(
  pcap: Uint8Array,
  fields: readonly string[],
): Promise<string[][]> {
  const args = ["-o", "udp.check_checksum:TRUE", "-Y", "udp", "-T", "fields"];
  for (const f of fields) args.push("-e", f);
  const out = await runTshark(pcap, args);
  return out.trim().split("\n").filter((l) => l !== "").map((l) => l.split("\t"));
}

/** tshark's length and checksum status (1: good) of each UDP datagram of a capture, "len\tstatus". */
export async function tsharkUdpChecksums(pcap: Uint8Array): Promise<string[]> {
  const rows = await tsharkUdpFields(pcap, ["udp.length", "udp.checksum.status"]);
  return rows.map((r) => r.join("\t"));
}
