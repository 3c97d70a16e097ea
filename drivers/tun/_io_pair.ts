/**
 * A {@linkcode TunIo} on one end of a `socketpair(AF_UNIX, SOCK_SEQPACKET)`,
 * for the driver's tests: like a TUN fd it keeps frame boundaries, and it
 * needs no privileges, only `--allow-ffi`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { TunIo } from "./io.ts";
import {
  acquireLibc,
  EFD_CLOEXEC,
  EFD_NONBLOCK,
  F_GETFL,
  F_SETFL,
  O_NONBLOCK,
  releaseLibc,
} from "./_libc.ts";
import type { PacketBuffer } from "../../stack/packet.ts";
import type { PacketPool } from "../../stack/packet_pool.ts";
import type { DriverPort } from "../../stack/driver.ts";
import { findEventLoopEpoll } from "./block_wait.ts";

/** Why a test cannot run here (not Linux, or no --allow-ffi). */
export const ignore = Deno.build.os !== "linux" ||
  Deno.permissions.querySync({ name: "ffi" }).state !== "granted";

const AF_UNIX = 1;
const SOCK_SEQPACKET = 5;

/** The driver's side and the peer's. */
export interface Pair {
  io: TunIo;
  peer: number;
  write(bytes: Uint8Array<ArrayBuffer>): number;
  read(into: Uint8Array<ArrayBuffer>): number;
  close(): Promise<void>;
}

/** A TunIo (`vnet`: with virtio-net headers) and its peer fd. */
export function pair(
  options: {
    batch?: number;
    batchBytes?: number;
    pollTimeout?: number;
    blockMax?: number;
    spin?: number;
    keepWarm?: number;
    vnet?: boolean;
  } = {},
): Pair {
  const libc = acquireLibc();
  const extra = Deno.dlopen("libc.so.6", {
    socketpair: { parameters: ["i32", "i32", "i32", "buffer"], result: "i32" },
  });
  const fds = new Int32Array(2);
  assert.equal(extra.symbols.socketpair(AF_UNIX, SOCK_SEQPACKET, 0, fds), 0);
  extra.close();
  const [fd, peer] = [fds[0]!, fds[1]!];
  const { sym } = libc;
  sym.fcntl(fd, F_SETFL, sym.fcntl(fd, F_GETFL, 0) | O_NONBLOCK);
  const wake = sym.eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  const io = new TunIo(libc, fd, wake, {
    frameMax: 1500,
    batch: options.batch ?? 64,
    ...(options.batchBytes !== undefined ? { batchBytes: options.batchBytes } : {}),
    pollTimeout: options.pollTimeout ?? 1000,
    ...(options.vnet !== undefined ? { vnet: options.vnet } : {}),
    ...(options.blockMax !== undefined
      ? {
        blockMax: options.blockMax,
        epollFd: findEventLoopEpoll(libc),
        spin: options.spin ?? 0,
        keepWarm: options.keepWarm ?? 0,
      }
      : {}),
  });
  return {
    io,
    peer,
    write: (b) => sym.write(peer, b, b.length),
    read: (b) => sym.read(peer, b, b.length),
    async close() {
      await io.closeFds(false);
      sym.close(peer);
      releaseLibc();
    },
  };
}

/** A driver port that hands each frame to `receive`. */
export function port(pool: PacketPool, receive: (pkt: PacketBuffer) => void): DriverPort {
  return { receive, pool, now: () => 0, ifindex: 1 };
}

/** Waits until `cond` holds, at most 2 s. */
export async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !cond(); i++) await new Promise((r) => setTimeout(r, 1));
  assert.ok(cond(), "condition not reached within 2 s");
}
