/**
 * Adds and removes interfaces (`Stack.removeInterface`) on one stack with
 * every built-in plugin plus conntrack and NAT, each with an IPv4 and an
 * IPv6 address and a multicast MAC, and prints, as JSON, the heap plus
 * external memory after a full GC after a warm-up round and after each of
 * ROUNDS rounds of ROUND interfaces more, with the armed timers. Run by
 * interface_churn_test.ts in a subprocess with `--v8-flags=--expose-gc`.
 *
 * Usage: `_interface_churn_probe.ts WARMUP ROUND ROUNDS`.
 *
 * @module
 */
import { conntrackPlugin, createStack, type LinkDriver, natPlugin } from "../../mod.ts";
import type { DriverPort } from "../../stack/driver.ts";
import type { PacketBuffer } from "../../stack/packet.ts";
import { pluginsWith } from "../_harness.ts";
import { usedAfterGc } from "../_gc_probe.ts";

/** An Ethernet driver that sends nowhere. */
class NullEthernet implements LinkDriver {
  readonly linkType = 1;
  readonly mtu = 1500;
  readonly mac: Uint8Array;
  constructor(i: number) {
    this.mac = new Uint8Array([2, 0, (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff, 1]);
  }
  attach(_port: DriverPort): void {}
  transmit(pkt: PacketBuffer): void {
    pkt.release();
  }
  close(): void {}
}

const [warmup, round, rounds] = Deno.args.map(Number) as [number, number, number];
const stack = createStack({
  seed: 1,
  plugins: pluginsWith({ ipv4: { forwarding: true }, ipv6: { forwarding: true } }, [
    conntrackPlugin,
    natPlugin,
  ]),
});
stack.addInterface({ name: "lan", driver: new NullEthernet(0), addresses: ["10.0.0.1/24"] });
let now = stack.clock.now();
function churn(from: number, to: number): void {
  for (let i = from; i < to; i++) {
    const name = `usb${i}`;
    stack.addInterface({
      name,
      driver: new NullEthernet(i + 1),
      addresses: [`10.${1 + ((i >> 8) & 0x3f)}.${i & 0xff}.1/24`, `fd00:${i.toString(16)}::1/64`],
    });
    stack.addRoute(`172.${16 + (i & 15)}.0.0/16`, {
      gateway: `10.${1 + ((i >> 8) & 0x3f)}.${i & 0xff}.254`,
    });
    now += 100_000;
    stack.poll(now); // timers (DAD, reports, solicitations) run a little
    stack.removeInterface(name);
  }
}
churn(0, warmup);
const timersAfterWarmup = stack.pendingTimers;
const afterWarmup = usedAfterGc().total;
const afterRounds: number[] = [];
for (let r = 0; r < rounds; r++) {
  churn(warmup + r * round, warmup + (r + 1) * round);
  afterRounds.push(usedAfterGc().total);
}
// The parent test reads this one line.
// deno-lint-ignore no-console
console.log(JSON.stringify({
  afterWarmup,
  afterRounds,
  interfaces: stack.interfaces.list().length,
  routes: stack.routes().length,
  timersAfterWarmup,
  timers: stack.pendingTimers,
  outstanding: stack.pool.outstanding,
}));
stack.close();
