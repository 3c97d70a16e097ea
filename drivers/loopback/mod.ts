/**
 * The loopback driver: an in-memory network on a virtual clock — "turmoil
 * with a real TCP/IP stack". A {@linkcode VirtualNetwork} owns a
 * `ManualClock`, a seeded RNG and an event queue of frames in flight; its
 * links ({@linkcode VirtualNetwork.link}) and learning switches
 * ({@linkcode VirtualNetwork.switch}; optionally IGMP/MLD snooping with a
 * querier, {@linkcode Snooping}) hand out {@linkcode LinkEnd}s, which are
 * `LinkDriver`s a stack attaches to. Stacks register as
 * {@linkcode NetworkNode}s and are polled on virtual time.
 *
 * Each link direction has seeded faults ({@linkcode Faults}: loss, duplicate,
 * reorder, delay, jitter, corrupt, bandwidth with a bounded queue), an MTU,
 * partitions, and counters ({@linkcode LinkStats}). Same seed + same scenario
 * ⇒ byte-identical traffic.
 *
 * Ownership: `transmit(pkt)` gives `pkt` to the network, which releases it
 * when the frame is delivered or dropped. The receiver gets a *copy* in a
 * buffer from its own `DriverPort.pool` (the wire carries bytes, not
 * objects), and owns it.
 *
 * Running: {@linkcode VirtualNetwork.step} (everything due now),
 * {@linkcode VirtualNetwork.runFor}, {@linkcode VirtualNetwork.runUntilIdle},
 * and {@linkcode VirtualNetwork.run} for async user code, with deadlock
 * detection and a virtual timeout.
 *
 * **Past one process:** {@linkcode bridgeToDevice} joins a switch port to a
 * real Ethernet driver, typically a VXLAN device (drivers/vxlan), so virtual
 * networks in several processes form one LAN; drive a bridged network in
 * real time ({@linkcode realTimeNetwork}): virtual time gives way to real
 * time across the bridge (`bridge.ts`).
 *
 * @example
 * ```ts
 * import { VirtualNetwork } from "./mod.ts";
 * import { MILLISECOND } from "../../stack/clock.ts";
 * import type { PacketBuffer } from "../../stack/packet.ts";
 * import assert from "node:assert/strict";
 *
 * const net = new VirtualNetwork({ seed: 1 });
 * const link = net.link({ faults: { delay: 20 * MILLISECOND, jitter: 5 * MILLISECOND } });
 * const arrivals: number[] = [];
 * link.b.attach({
 *   pool: net.pool, ifindex: 1, now: () => net.now(),
 *   receive(pkt: PacketBuffer) { arrivals.push(pkt.data[14]!); pkt.release(); },
 * });
 * for (let i = 0; i < 5; i++) {
 *   const frame = net.pool.alloc(64);
 *   frame.data.fill(i);
 *   link.a.transmit(frame);
 * }
 * net.runFor(100 * MILLISECOND);
 * assert.deepEqual(arrivals, [0, 1, 2, 3, 4]); // jitter without reorder keeps order
 * assert.equal(link.stats("a->b").delivered, 5);
 * assert.equal(net.pool.outstanding, 0);
 * ```
 *
 * @module
 */
export { VirtualNetwork } from "./network.ts";
export { DeadlockError, VirtualTimeoutError } from "./errors.ts";
export type {
  NetworkNode,
  RunOptions,
  RunUntilIdleOptions,
  VirtualNetworkOptions,
} from "./network.ts";
export { DEFAULT_MTU, Link, LinkEnd } from "./link.ts";
export type { LinkOptions } from "./link.ts";
export { DEFAULT_AGEING, DEFAULT_MAC_TABLE_SIZE, Switch } from "./switch.ts";
export type { MacEntry, SwitchOptions, SwitchPortOptions, SwitchStats } from "./switch.ts";
export { Snooping } from "./snooping.ts";
export type { SnoopedGroup, SnoopingOptions, SnoopingStats } from "./snooping.ts";
export { checkFaults, DEFAULT_REORDER_DELAY } from "./faults.ts";
export type { Direction, Directions, DropCounts, Faults, LinkStats, QueueLimit } from "./faults.ts";
export { formatMac } from "./mac.ts";
export { Bridge, bridgeToDevice, realTimeNetwork } from "./bridge.ts";
export type { BridgeStats } from "./bridge.ts";
export { Partition, runPartitioned } from "./partition.ts";
export type {
  LinkPairStats,
  PartitionedResult,
  PartitionedRunOptions,
  PartitionedScenario,
  PartitionTiming,
  ScenarioBuilder,
  Trunk,
} from "./partition.ts";
export { buildLan, bulk, reportProgress, requestResponse, runWithProgress } from "./scenario.ts";
export type { BulkFlow, BulkOptions, Lan, LanOptions, RequestResponseOptions } from "./scenario.ts";
