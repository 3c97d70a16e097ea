/**
 * Bridging the in-memory network to a real Ethernet link driver — a VXLAN
 * device (drivers/vxlan), a TAP device, an AF_PACKET socket — through one
 * port of a virtual switch, so that virtual networks in several processes
 * (or machines) form one LAN: **the way to scale past one process**.
 *
 * ```
 * process 1: stacks ─ switch ─ bridge ─ VXLAN ══ UDP ══ VXLAN ─ bridge ─ switch ─ stacks :process 2
 * ```
 *
 * **Time.** Inside one process the network runs on its virtual clock;
 * across the bridge it cannot: frames from the other side arrive when the
 * real world delivers them. So a bridged network must be driven in real time
 * ({@linkcode realTimeNetwork} with a `RealTimeRunner`, and the device's
 * `onBatch` pointed at the runner's `kick`), and the determinism of a seeded
 * run holds only for traffic that stays on one side. Virtual time gives way
 * to real time across the bridge.
 *
 * **MACs.** A `VirtualNetwork` numbers the MACs it hands out from the same
 * counter in every process (`02:00:00:00:00:01`, …), so hosts on two bridged
 * networks would collide: give each switch port of a bridged network a MAC
 * unique across the whole LAN (`sw.port({ mac })`).
 *
 * @module
 */
import type { Clock, Instant } from "../../stack/clock.ts";
import { LINKTYPE_ETHERNET } from "../../stack/driver.ts";
import type { LinkDriver } from "../../stack/driver.ts";
import type { PacketBuffer } from "../../stack/packet.ts";
import type { LinkEnd } from "./link.ts";
import type { VirtualNetwork } from "./network.ts";

/** Frames that crossed a {@linkcode Bridge}, each way. */
export interface BridgeStats {
  /** From the virtual network out to the device. */
  toDevice: number;
  /** From the device into the virtual network. */
  fromDevice: number;
}

/**
 * A virtual switch port (or link end) joined to a real link driver. Create
 * with {@linkcode bridgeToDevice}.
 */
export class Bridge {
  /** Counters. */
  readonly stats: BridgeStats = { toDevice: 0, fromDevice: 0 };
  /** The virtual side. */
  readonly end: LinkEnd;
  /** The real side. */
  readonly device: LinkDriver;
  #closed = false;

  /** @internal Use {@linkcode bridgeToDevice}. */
  constructor(net: VirtualNetwork, end: LinkEnd, device: LinkDriver) {
    this.end = end;
    this.device = device;
    const stats = this.stats;
    const now = (): Instant => net.now();
    // Each side's frames are handed over with their ownership: no copy here
    // (the virtual wire copied into net.pool already; the device allocates
    // from the pool it is given).
    end.attach({
      pool: net.pool,
      ifindex: 0,
      now,
      receive(pkt: PacketBuffer): void {
        stats.toDevice++;
        device.transmit(pkt);
      },
    });
    device.attach({
      pool: net.pool,
      ifindex: 0,
      now,
      receive(pkt: PacketBuffer): void {
        stats.fromDevice++;
        end.transmit(pkt);
      },
    });
  }

  /** Detaches both sides and closes the device. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.end.close();
    this.device.close();
  }
}

/**
 * Joins `end` (a port of a switch of `net`, from `sw.port({ mtu })`) to
 * `device`, an Ethernet link driver not yet attached: every frame the switch
 * sends to that port leaves through the device, every frame the device
 * receives enters the switch there.
 *
 * @param net The virtual network `end` belongs to.
 * @param end The virtual switch port.
 * @param device The real link (VXLAN device, TAP, AF_PACKET).
 * @returns The bridge.
 * @throws {TypeError} When either side is not Ethernet.
 * @throws {RangeError} When the port's MTU exceeds the device's (frames would be dropped).
 *
 * @example
 * ```ts
 * import { bridgeToDevice, VirtualNetwork } from "./mod.ts";
 * import { LINKTYPE_ETHERNET } from "../../stack/driver.ts";
 * import type { DriverPort } from "../../stack/driver.ts";
 * import type { PacketBuffer } from "../../stack/packet.ts";
 * import assert from "node:assert/strict";
 * const net = new VirtualNetwork({ seed: 1 });
 * const sw = net.switch();
 * const sent: number[] = [];
 * let inbound: DriverPort | undefined;
 * const device = {
 *   linkType: LINKTYPE_ETHERNET, mtu: 1450,
 *   attach(p: DriverPort) { inbound = p; },
 *   transmit(p: PacketBuffer) { sent.push(p.length); p.release(); },
 *   close() {},
 * };
 * const bridge = bridgeToDevice(net, sw.port({ mtu: 1450 }), device);
 * const host = sw.port();
 * host.attach({ pool: net.pool, ifindex: 1, now: () => net.now(), receive: (p) => p.release() });
 * const frame = net.pool.alloc(60);
 * frame.data.fill(0xff, 0, 6); // broadcast: the switch floods it to the bridge
 * host.transmit(frame);
 * net.runFor(1000);
 * assert.deepEqual(sent, [60]);
 * assert.equal(bridge.stats.toDevice, 1);
 * assert.ok(inbound !== undefined);
 * ```
 */
export function bridgeToDevice(net: VirtualNetwork, end: LinkEnd, device: LinkDriver): Bridge {
  if (end.linkType !== LINKTYPE_ETHERNET || device.linkType !== LINKTYPE_ETHERNET) {
    throw new TypeError("Cannot bridge: both sides must carry Ethernet frames");
  }
  if (end.mtu > device.mtu) {
    throw new RangeError(
      `Cannot bridge: the switch port's MTU ${end.mtu} exceeds the device's ${device.mtu} ` +
        `(create the port with { mtu: ${device.mtu} })`,
    );
  }
  return new Bridge(net, end, device);
}

/**
 * `net` as something a `RealTimeRunner` drives on `clock`: virtual time is
 * pulled along with real time (virtual = real + a fixed offset), which a
 * bridged network needs (see the module doc).
 *
 * @example
 * ```ts
 * import { realTimeNetwork, VirtualNetwork } from "./mod.ts";
 * import { SystemClock } from "../../stack/clock.ts";
 * import assert from "node:assert/strict";
 * const clock = new SystemClock();
 * const net = new VirtualNetwork({ seed: 1, start: clock.now() });
 * const node = realTimeNetwork(net, clock);
 * const before = net.now();
 * node.poll(clock.now() + 5_000);
 * assert.ok(net.now() >= before + 5_000);
 * ```
 */
export function realTimeNetwork(
  net: VirtualNetwork,
  clock: Clock,
): { pollAt(now: Instant): Instant | undefined; poll(now: Instant): void } {
  const offset = net.now() - clock.now();
  return {
    pollAt(): Instant | undefined {
      const t = net.nextDeadline();
      return t === undefined ? undefined : (t - offset) as Instant;
    },
    poll(now: Instant): void {
      const target = now + offset;
      if (target > net.now()) net.runFor(target - net.now());
      else net.step();
    },
  };
}
