/**
 * Receive-path benchmarks: parse and dispatch of Ethernet/IPv4/ICMP frames
 * through a stack with a driver that discards what it is given, and a full
 * ping round trip between two stacks on the in-memory network, through the
 * `icmp.echo` service and through the public `Stack.ping()` (issue 13: the
 * README's ping figure is the public one).
 */
import {
  ACCEPT,
  createStack,
  DEFAULT_PLUGINS,
  finishChecksum,
  type HookPoint,
  type IcmpEchoService,
  type LinkDriver,
  type PacketBuffer,
  sumBytes,
  VirtualNetwork,
} from "../mod.ts";
import { kernelOf } from "../stack/stack.ts";

const MAC_A = [2, 0, 0, 0, 0, 1];
const MAC_B = [2, 0, 0, 0, 0, 2];

/** An Ethernet/IPv4/ICMP frame from 10.0.0.2 to 10.0.0.1 of ICMP `type`. */
function icmpFrame(type: number): Uint8Array {
  const f = new Uint8Array(14 + 20 + 8 + 56);
  f.set(MAC_A, 0);
  f.set(MAC_B, 6);
  f.set([0x08, 0x00], 12);
  const ip = f.subarray(14, 34);
  ip.set([0x45, 0, 0, 84, 0, 1, 0x40, 0, 64, 1, 0, 0, 10, 0, 0, 2, 10, 0, 0, 1]);
  const ck = finishChecksum(sumBytes(ip));
  ip[10] = ck >> 8;
  ip[11] = ck & 0xff;
  const icmp = f.subarray(34);
  icmp[0] = type;
  icmp.set([0, 0x12, 0x34, 0, 1], 3);
  for (let i = 8; i < icmp.length; i++) icmp[i] = i;
  const c2 = finishChecksum(sumBytes(icmp));
  icmp[2] = c2 >> 8;
  icmp[3] = c2 & 0xff;
  return f;
}

const sink: LinkDriver = {
  linkType: 1,
  mtu: 1500,
  mac: new Uint8Array(MAC_A),
  attach() {},
  transmit(pkt: PacketBuffer) {
    pkt.release();
  },
  close() {},
};

const stack = createStack({ seed: 1 });
stack.addInterface({ name: "eth0", driver: sink, addresses: ["10.0.0.1/24"] });
stack.service<{ addStatic(i: number, a: number, m: Uint8Array): void }>("arp.resolve")!
  .addStatic(0, 0x0a000002, new Uint8Array(MAC_B));
// The kernel (below the Stack façade) takes frames as a driver would.
const kernel = kernelOf(stack);
const reply = icmpFrame(0);
const request = icmpFrame(8);

Deno.bench("receive: Ethernet/IPv4/ICMP echo reply parsed and dispatched (per frame)", {
  group: "dispatch",
  baseline: true,
}, () => {
  const pkt = stack.pool.copyOf(reply);
  kernel.receive(0, pkt);
});

Deno.bench("receive: echo request parsed, dispatched and answered (per frame)", {
  group: "dispatch",
}, () => {
  kernel.receive(0, stack.pool.copyOf(request));
});

// IPv6 through hooks at prerouting and input, which are told the upper
// layer (pkt.proto, pkt.l4): without an extension header no walk is made;
// behind a Destination Options header the chain is found. An unmatched
// echo reply, counted and dropped by icmpv6, as the IPv4 one above.
let upperSeen = 0;
const hooked = createStack({
  seed: 1,
  plugins: DEFAULT_PLUGINS.map((p) =>
    p.manifest.name === "ndp" ? { plugin: p, options: { dadTransmits: 0 } } : p
  ),
  extraPlugins: [{
    manifest: {
      name: "bench_hook",
      description: "accepts, reading the upper layer",
      version: "1.0.0",
      api: "^1.0.0",
      layer: "middlebox",
      binds: [],
      hooks: [{ point: "prerouting" }, { point: "input" }],
      counters: [],
    },
    setup: () => ({
      hook(_point: HookPoint, pkt: PacketBuffer) {
        upperSeen += pkt.l4; // what a filter reads first
        return ACCEPT;
      },
    }),
  }],
});
hooked.addInterface({ name: "eth0", driver: sink, addresses: ["fd00::1/64"] });
const hookedKernel = kernelOf(hooked);

/** Ethernet/IPv6 fd00::2 → fd00::1, an ICMPv6 echo reply, behind `ext` (extension headers). */
function echoReply6(ext: readonly number[]): Uint8Array {
  const src = new Uint8Array(16), dst = new Uint8Array(16);
  src[0] = dst[0] = 0xfd;
  src[15] = 2;
  dst[15] = 1;
  const icmp = new Uint8Array(64);
  icmp.set([129, 0, 0, 0, 0x12, 0x34, 0, 1]);
  for (let i = 8; i < 64; i++) icmp[i] = i;
  const pseudo = new Uint8Array(40);
  pseudo.set(src);
  pseudo.set(dst, 16);
  pseudo[35] = 64;
  pseudo[39] = 58;
  const ck = finishChecksum(sumBytes(icmp, sumBytes(pseudo)));
  icmp[2] = ck >> 8;
  icmp[3] = ck & 0xff;
  const plen = ext.length + icmp.length;
  const f = new Uint8Array(14 + 40 + plen);
  f.set(MAC_A, 0);
  f.set(MAC_B, 6);
  f.set([0x86, 0xdd, 0x60, 0, 0, 0, plen >> 8, plen & 0xff, ext.length > 0 ? 60 : 58, 64], 12);
  f.set(src, 22);
  f.set(dst, 38);
  f.set(ext, 54);
  f.set(icmp, 54 + ext.length);
  return f;
}
const reply6 = echoReply6([]);
const reply6Dest = echoReply6([58, 0, 1, 4, 0, 0, 0, 0]);

Deno.bench("receive: Ethernet/IPv6/ICMPv6 echo reply through prerouting and input hooks", {
  group: "hooks6",
  baseline: true,
}, () => {
  hookedKernel.receive(0, hooked.pool.copyOf(reply6));
});

Deno.bench("receive: the same behind a Destination Options header", { group: "hooks6" }, () => {
  hookedKernel.receive(0, hooked.pool.copyOf(reply6Dest));
});

// A full ping round trip between two stacks on the in-memory network.
const net = new VirtualNetwork({ seed: 1 });
const link = net.link();
const a = net.addNode(createStack({ clock: net.clock, seed: 1 }));
const b = net.addNode(createStack({ clock: net.clock, seed: 2 }));
a.addInterface({ driver: link.a, addresses: ["10.0.0.1/24"] });
b.addInterface({ driver: link.b, addresses: ["10.0.0.2/24"] });
const echo = a.service<IcmpEchoService>("icmp.echo")!;
let replies = 0;
const done = (r: unknown) => {
  if (typeof r !== "string") replies++;
};
echo.echo(0x0a000002, {}, done); // resolve ARP first
net.runUntilIdle({ maxTime: 10_000_000 });

Deno.bench("ping round trip between two stacks in memory", { group: "ping" }, () => {
  echo.echo(0x0a000002, { timeout: 1_000_000 }, done);
  net.step();
});

// The same round trip through the public API: `ping()` returns a promise,
// resolved from within the step that delivers the reply, then awaited.
const pingOptions = { timeout: 1000 }; // ms, as Stack.ping takes
Deno.bench("ping() round trip between two stacks in memory (public API)", {
  group: "ping",
}, async () => {
  const reply = a.ping("10.0.0.2", pingOptions);
  net.step();
  await reply;
});
