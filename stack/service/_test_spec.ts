/**
 * What the tests of `defineService` start from: a spec (`probe`, TCP and
 * UDP port 7100, handlers that do nothing) each test spoils a field of,
 * and a server running a service with a client on one virtual link.
 *
 * @module
 */
import { createStack, type ProtocolPlugin, type Stack, VirtualNetwork } from "../../mod.ts";
import type { ServiceSpec } from "./define.ts";

/** A spec that works, with `over`'s fields in place of its own. */
export function probeSpec(over: Record<string, unknown> = {}): ServiceSpec {
  return {
    name: "probe",
    description: "a test service",
    port: 7100,
    transports: ["tcp", "udp"],
    setup: () => ({ tcp: () => Promise.resolve(), udp: () => {} }),
    ...over,
  } as ServiceSpec;
}

/** A server (10.0.0.2) running `plugin` and a client (10.0.0.1) on one link; `close` ends all. */
export function serverAndClient(plugin: ProtocolPlugin): {
  net: VirtualNetwork;
  server: Stack;
  client: Stack;
  close: () => void;
} {
  const net = new VirtualNetwork({ seed: 1 });
  const link = net.link();
  const server = net.addNode(createStack({ clock: net.clock, seed: 1, extraPlugins: [plugin] }));
  const client = net.addNode(createStack({ clock: net.clock, seed: 2 }));
  server.addInterface({ driver: link.a, addresses: ["10.0.0.2/24"] });
  client.addInterface({ driver: link.b, addresses: ["10.0.0.1/24"] });
  const close = () => {
    client.close();
    server.close();
    net.close();
  };
  return { net, server, client, close };
}
