/**
 * IPv4 fragmentation and reassembly of a 64 KiB datagram at MTU 1500:
 * `deno bench bench/fragment_bench.ts`. One iteration is one datagram
 * (65,535 bytes: 45 fragments), so iterations per second are datagrams per
 * second; multiply by 65,535 × 8 for bit/s.
 *
 * - `fragment`: `fragmentIpv4` of a datagram in a pooled buffer (the row
 *   includes copying the 64 KiB template in; then 44 buffers taken from the
 *   pool and 64 KiB copied out), fragments released.
 * - `reassemble`: `Reassembler.add` of the 45 fragments in order (one
 *   pooled buffer, 64 KiB copied), the datagram released.
 * - `reassemble, reverse order`: the same, last fragment first (the binary
 *   search and insertion path).
 * - `fragment + reassemble`: both, as a sender and a receiver would.
 * - `through two stacks`: a 65,507-byte ping between two stacks on a
 *   loopback link (fragment, link copies, reassemble, echo, fragment,
 *   reassemble), for the whole-stack cost.
 *
 * @module
 */
import { PacketBuffer } from "../stack/packet.ts";
import { PacketPool } from "../stack/packet_pool.ts";
import { emitIpv4 } from "../stack/wire/ipv4.ts";
import { fragmentIpv4 } from "../stack/protocols/ipv4/fragment.ts";
import { Reassembler } from "../stack/protocols/ipv4/reassembly.ts";
import { createStack, VirtualNetwork } from "../mod.ts";

const PAYLOAD = 65535 - 20;
const MTU = 1500;
const pool = new PacketPool();
const template = new Uint8Array(20 + PAYLOAD);
emitIpv4({
  src: 0x0a000001,
  dst: 0x0a000002,
  protocol: 17,
  ttl: 64,
  payloadLength: PAYLOAD,
  identification: 1,
}, template);
for (let i = 20; i < template.length; i++) template[i] = i & 0xff;

const out: PacketBuffer[] = [];
let id = 0;

function fresh(): PacketBuffer {
  const pkt = pool.alloc(template.length);
  pkt.buf.set(template, pkt.start);
  pkt.dv.setUint16(pkt.start + 4, id = (id + 1) & 0xffff); // (checksum not fixed: not checked here)
  return pkt;
}

// Fragments kept as bytes, for the reassembly-only rows.
const fragments: Uint8Array[] = (() => {
  const pkt = fresh();
  fragmentIpv4(pkt, MTU, pool, out);
  const frags = out.map((f) => f.data.slice());
  for (const f of out) f.release();
  return frags;
})();
const wrapped = fragments.map((f) => PacketBuffer.wrap(f));
const reversed = [...wrapped].reverse();
const reasm = new Reassembler(pool, () => 0);

Deno.bench("fragment 64 KiB at MTU 1500 (45 fragments)", { group: "fragment" }, () => {
  const n = fragmentIpv4(fresh(), MTU, pool, out) as number;
  for (let i = 0; i < n; i++) out[i]!.release();
});

Deno.bench("reassemble 64 KiB from 45 fragments, in order", { group: "reassemble" }, () => {
  let whole: PacketBuffer | null | string = null;
  for (let i = 0; i < wrapped.length; i++) whole = reasm.add(wrapped[i]!);
  (whole as PacketBuffer).release();
});

Deno.bench("reassemble 64 KiB from 45 fragments, reverse order", { group: "reassemble" }, () => {
  let whole: PacketBuffer | null | string = null;
  for (let i = 0; i < reversed.length; i++) whole = reasm.add(reversed[i]!);
  (whole as PacketBuffer).release();
});

Deno.bench("fragment + reassemble 64 KiB at MTU 1500", { group: "both" }, () => {
  const n = fragmentIpv4(fresh(), MTU, pool, out) as number;
  let whole: PacketBuffer | null | string = null;
  for (let i = 0; i < n; i++) {
    whole = reasm.add(out[i]!);
    out[i]!.release();
  }
  (whole as PacketBuffer).release();
});

// Two stacks on a link: a 65,507-byte ping and its reply.
const net = new VirtualNetwork({ seed: 1 });
const link = net.link();
const a = createStack({ clock: net.clock, seed: 1 });
const b = createStack({ clock: net.clock, seed: 2 });
net.addNode(a);
net.addNode(b);
a.addInterface({ driver: link.a, addresses: ["10.0.0.1/24"] });
b.addInterface({ driver: link.b, addresses: ["10.0.0.2/24"] });
await net.run(() => a.ping("10.0.0.2"));
const echo = a.service<import("../mod.ts").IcmpEchoService>("icmp.echo")!;

Deno.bench("through two stacks: 65,507-byte ping and reply at MTU 1500", { group: "stack" }, () => {
  let done = false;
  echo.echo(0x0a000002, { size: 65507 }, (r) => {
    if (typeof r === "string") throw new Error(r);
    done = true;
  });
  while (!done) net.step();
});
