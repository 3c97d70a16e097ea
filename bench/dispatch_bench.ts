/**
 * Receive-path benchmarks: parse and dispatch of Ethernet/IPv4/ICMP frames
 * through a stack with a driver that discards what it is given, and a full
 * ping round trip between two stacks on the in-memory network, through the
 * `icmp.echo` service and through the public `Stack.ping()` (issue 13: the
 * README's ping figure is the public one).
 */
import {
  createStack,
  finishChecksum,
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
