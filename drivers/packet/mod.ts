/**
 * The AF_PACKET driver: the stack as one more host on an existing Linux
 * Ethernet interface (a veth end, a NIC, a bridge port), with its own MAC,
 * through a raw packet socket opened with `Deno.dlopen` on libc. No TUN/TAP
 * device and no Linux address are needed; Linux keeps the interface.
 *
 * - {@linkcode openPacket} binds a packet socket to the interface (optionally
 *   inside a network namespace), attaches a classic BPF filter (frames for
 *   the stack's MAC, broadcast, multicast; never this host's own), and joins
 *   promiscuous mode unless `promisc: false`. `packet.ts` lists the steps.
 * - Receiving and sending share the TUN driver's batched non-blocking loop
 *   (`drivers/tun/io.ts`); drive the stack with `RealTimeRunner` from
 *   `drivers/tun` and point `onBatch` at its `kick`.
 *
 * Needs Linux, `--allow-ffi`, and root or CAP_NET_RAW (CAP_NET_ADMIN too for
 * `up` or a namespace). Turn off checksum and segmentation offloads on a
 * veth peer (see `packet.ts`).
 *
 * `ring: true` receives through a `TPACKET_V3` mmap ring (`ring.ts`).
 *
 * **Not supported:** a transmit ring, `PACKET_VNET_HDR`, VLAN tag
 * reconstruction, non-Ethernet interfaces, other operating systems.
 *
 * @example
 * ```ts ignore
 * // Needs root and --allow-ffi; the runnable version is tests/interop/packet_test.ts.
 * import { openPacket } from "./mod.ts";
 * import { RealTimeRunner } from "../tun/mod.ts";
 * import { createStack, SystemClock } from "../../mod.ts";
 * const clock = new SystemClock();
 * const stack = createStack({ clock });
 * const dev = openPacket({ ifname: "veth1", netns: "lab" });
 * stack.addInterface({ driver: dev, addresses: ["10.0.0.2/24"] });
 * const runner = new RealTimeRunner(stack, { clock });
 * dev.onBatch = runner.kick;
 * runner.start();
 * // … `ip netns exec lab ping 10.0.0.2` now gets answers …
 * runner.stop();
 * stack.close();
 * await dev.closed;
 * ```
 *
 * @module
 */
export { openPacket, PacketDevice } from "./packet.ts";
export type { PacketOptions, PacketStats } from "./packet.ts";
export { macFilter, runBpf } from "./bpf.ts";
export type { BpfInstruction } from "./bpf.ts";
