/**
 * The host UDP sockets a VXLAN device uses: one bound to the local VTEP
 * address and port (receives), and a few bound to source ports spread over
 * 49152-65535 (send; RFC 7348 §5 wants the outer source port to come from a
 * hash of the inner flow, so that the underlay's ECMP spreads flows).
 *
 * Built on `node:dgram`, which Deno ships as stable: `Deno.listenDatagram`
 * still needs `--unstable-net` in Deno 2.9, which every user of the driver
 * (and every `deno test`) would have to pass. No root is needed either way.
 *
 * @module
 */
import type dgram from "node:dgram";
import type { VxlanEndpoint } from "./fdb.ts";

/**
 * How a VXLAN device reaches the underlay; {@linkcode openUdpTransport} is
 * the real one, tests pass their own.
 */
export interface VxlanTransport {
  /** Where it receives. */
  readonly local: VxlanEndpoint;
  /** The source ports it sends from (index = flow hash modulo their number). */
  readonly sourcePorts: readonly number[];
  /** Set by the device: each received datagram (borrowed until it returns) and its sender. */
  onDatagram: ((data: Uint8Array, from: VxlanEndpoint) => void) | null;
  /**
   * Sends `data` to `to` from source port number `flow % sourcePorts.length`;
   * `done(failed)` is called once `data` may be reused.
   */
  send(data: Uint8Array, to: VxlanEndpoint, flow: number, done: (failed: boolean) => void): void;
  /** Closes every socket. */
  close(): Promise<void>;
}

function bindSocket(sock: dgram.Socket, port: number, address: string): Promise<Error | null> {
  return new Promise((resolve) => {
    const onError = (err: Error) => resolve(err);
    sock.once("error", onError);
    sock.bind({ port, address, exclusive: true }, () => {
      sock.off("error", onError);
      resolve(null);
    });
  });
}

function closeSocket(sock: dgram.Socket): Promise<void> {
  return new Promise((resolve) => {
    try {
      sock.close(() => resolve());
    } catch {
      resolve(); // not bound or already closed
    }
  });
}

/**
 * Opens the receive socket on `local` and `count` send sockets.
 *
 * @throws {Error} When the local address and port cannot be bound (in use, not an address of this host).
 */
export async function openUdpTransport(
  local: VxlanEndpoint,
  count: number,
): Promise<VxlanTransport> {
  // Loaded here, not at the top: importing the library must not load Node's
  // UDP layer for users who never open a VXLAN device (with it loaded, the
  // in-memory connection benchmark touched ~8x more fresh memory pages).
  const { createSocket } = await import("node:dgram");
  const type = local.hostname.includes(":") ? "udp6" : "udp4";
  const rx = createSocket({ type, reuseAddr: false });
  const err = await bindSocket(rx, local.port, local.hostname);
  if (err !== null) {
    await closeSocket(rx);
    throw new Error(
      `Cannot open VXLAN socket on ${local.hostname} port ${local.port}: ${err.message}`,
      { cause: err },
    );
  }
  const senders: dgram.Socket[] = [];
  const ports: number[] = [];
  const span = Math.floor(16384 / count);
  for (let i = 0; i < count; i++) {
    // Spread over 49152-65535; a port in use moves to the next one in its span.
    for (let j = 0; j < Math.min(span, 32); j++) {
      const port = 49152 + i * span + j;
      const s = createSocket({ type });
      if (await bindSocket(s, port, local.hostname) === null) {
        s.on("error", () => {}); // send errors come through the callbacks
        senders.push(s);
        ports.push(port);
        break;
      }
      await closeSocket(s);
    }
  }
  if (senders.length === 0) {
    await closeSocket(rx);
    throw new Error(`Cannot open VXLAN socket: no free source port in 49152-65535`);
  }
  const t: VxlanTransport = {
    local: { hostname: local.hostname, port: rx.address().port },
    sourcePorts: ports,
    onDatagram: null,
    send(data, to, flow, done) {
      try {
        senders[flow % senders.length]!.send(data, to.port, to.hostname, (e) => done(e != null));
      } catch {
        done(true);
      }
    },
    async close() {
      await Promise.all([rx, ...senders].map(closeSocket));
    },
  };
  rx.on("message", (msg: Uint8Array, info: dgram.RemoteInfo) => {
    t.onDatagram?.(msg, { hostname: info.address, port: info.port });
  });
  rx.on("error", () => {});
  return t;
}
