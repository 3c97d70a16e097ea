/**
 * Drives each bounded store of one stack with default limits to its cap
 * with hostile traffic and prints, as JSON, the heap plus external memory
 * after a full GC before and after each phase. Run by
 * memory_budget_test.ts in a subprocess with `--v8-flags=--expose-gc`.
 *
 * @module
 */
import { ethernetFrame, icmpEcho, ip, ipv4Packet, makeHost, onesSum } from "../_harness.ts";
import { kernelOf } from "../../stack/stack.ts";

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("run with --v8-flags=--expose-gc");

function used(): number {
  gc!();
  gc!();
  const m = Deno.memoryUsage();
  return m.heapUsed + m.external;
}

const US = "02:00:00:00:00:01";
const h = makeHost({ mac: US, addresses: ["10.0.0.1/16"] });
const s = h.stack;
const inject = (f: Uint8Array) => kernelOf(s).inject(h.iface.index, f);
function macOf(i: number): string {
  return `02:01:00:00:${((i >> 8) & 0xff).toString(16).padStart(2, "0")}:${
    (i & 0xff).toString(16).padStart(2, "0")
  }`;
}
function addr(i: number): string {
  return `10.0.${16 + (i >> 8)}.${i & 0xff}`;
}

const result: Record<string, number> = {};
const base = used();
let last = base;
function phase(name: string): void {
  const now = used();
  result[name] = now - last;
  last = now;
}

// ARP: echo requests from 4,096 on-link sources that never answer ARP. The
// replies wait for resolution (queues capped at 1 MiB of buffers), and the
// cache fills to its 4,096 entries.
for (let i = 0; i < 4096; i++) {
  const icmp = icmpEcho({ identifier: 7, sequence: i });
  inject(ethernetFrame(
    { dst: US, src: macOf(i), etherType: 0x0800 },
    ipv4Packet({ protocol: 1, src: addr(i), dst: "10.0.0.1" }, icmp),
  ));
}
phase("arp");

// Reassembly: fragments of datagrams that never complete, from many
// sources, 1,400 bytes each, at most 4 MiB held.
let id = 0;
for (let src = 0; src < 64; src++) {
  for (let d = 0; d < 16; d++) {
    id++;
    for (let k = 0; k < 8; k++) {
      inject(ethernetFrame(
        { dst: US, src: macOf(src), etherType: 0x0800 },
        ipv4Packet({
          protocol: 17,
          src: addr(src),
          dst: "10.0.0.1",
          id,
          moreFragments: true,
          fragmentOffset: k * 200, // 1,600-byte steps: holes, never whole
        }, new Uint8Array(1400)),
      ));
    }
  }
}
phase("reassembly");

// UDP: 1,000 sockets nobody reads, 256 empty datagrams each (16 MiB cap).
const conns = [];
for (let p = 0; p < 1000; p++) conns.push(s.listenDatagram({ transport: "udp", port: 10_000 + p }));
for (let p = 0; p < 1000; p++) {
  const udp = new Uint8Array([0, 7, (10_000 + p) >> 8, (10_000 + p) & 0xff, 0, 8, 0, 0]);
  const f = ethernetFrame(
    { dst: US, src: macOf(1), etherType: 0x0800 },
    ipv4Packet({ protocol: 17, src: addr(1), dst: "10.0.0.1" }, udp),
  );
  for (let i = 0; i < 256; i++) inject(f);
}
phase("udp");

// TCP: a SYN flood on one listener from 20,000 spoofed sources: 256
// half-open connections (synBacklog), SYN cookies for the rest.
const listener = s.listen({ port: 80 });
for (let i = 0; i < 20_000; i++) {
  const tcp = new Uint8Array(20);
  const dv = new DataView(tcp.buffer);
  dv.setUint16(0, 1024 + (i % 60000));
  dv.setUint16(2, 80);
  dv.setUint32(4, i * 7919);
  tcp[12] = 0x50;
  tcp[13] = 0x02;
  dv.setUint16(14, 65535);
  const src = `10.0.${100 + (i >> 8) % 100}.${i & 0xff}`;
  const pseudo = new Uint8Array(12);
  const pv = new DataView(pseudo.buffer);
  pv.setUint32(0, ip(src));
  pv.setUint32(4, ip("10.0.0.1"));
  pv.setUint16(8, 6);
  pv.setUint16(10, 20);
  dv.setUint16(16, ~onesSum(tcp, onesSum(pseudo)) & 0xffff);
  inject(ethernetFrame(
    { dst: US, src: macOf(i & 0xfff), etherType: 0x0800 },
    ipv4Packet({ protocol: 6, src, dst: "10.0.0.1" }, tcp),
  ));
}
phase("syn_flood");

result.total = last - base;
result.buffers = s.pool.outstanding;
result.embryos = s.sockets().filter((x) => x.state === "SYN-RECEIVED").length;
result.arpQueued = s.neighbors().reduce((n, e) => n + e.queued, 0);
result.arpEntries = s.neighbors().length;
Deno.stdout.writeSync(new TextEncoder().encode(JSON.stringify(result) + "\n"));
listener.close();
for (const c of conns) c.close();
h.finish();
