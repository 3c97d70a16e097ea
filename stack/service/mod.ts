/**
 * Services: TCP and UDP servers that run inside a stack as plugins of layer
 * `"service"`, written with {@linkcode defineService} (the built-in echo,
 * discard, chargen, daytime, http and iperf3 of `plugins/services/` are).
 *
 * @example
 * ```ts
 * import { defineService } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const hello = defineService({
 *   name: "hello",
 *   description: "answers each datagram with hello",
 *   port: 7003,
 *   transports: ["udp"],
 *   setup: () => ({
 *     async udp(_data, from, sock) {
 *       await sock.send(new TextEncoder().encode("hello\n"), from);
 *     },
 *   }),
 * });
 * assert.equal(hello.manifest.options?.port?.default, 7003);
 * ```
 *
 * @module
 */
export { defineService } from "./define.ts";
export type { ServiceHandlers, ServiceSpec, ServiceTransport } from "./define.ts";
export {
  MAX_SERVICE_CONNECTIONS,
  SERVICE_HOST_COUNTERS,
  SERVICE_HOST_OPTIONS,
  writeAll,
} from "./host.ts";
export type { ConnHandler, DatagramHandler, ServiceHost, UdpQueueOptions } from "./host.ts";
