/**
 * The `TPACKET_V3` mmap receive ring (opt-in: `openPacket({ ring: true })`).
 *
 * The kernel writes received frames straight into memory shared with us:
 * `block_nr` blocks of `block_size` bytes, each holding many frames one
 * after another. A block is ours once its `block_status` has
 * `TP_STATUS_USER`: full, or retired after `retire_blk_tov` ms; we copy its
 * frames into pooled buffers (the block goes back to the kernel at once, and
 * the stack may keep a buffer), hand them to the stack, and give the block
 * back (`TP_STATUS_KERNEL`). No system call per frame: one `poll()` per
 * batch of blocks. Sending still goes through `write()`.
 *
 * Layout read here (linux/if_packet.h): `struct tpacket_block_desc` { u32
 * version; u32 offset_to_priv; struct tpacket_hdr_v1 { u32 block_status
 * (@8); u32 num_pkts (@12); u32 offset_to_first_pkt (@16); … } }, and per
 * frame `struct tpacket3_hdr` { u32 tp_next_offset (@0); u32 tp_sec; u32
 * tp_nsec; u32 tp_snaplen (@12); u32 tp_len (@16); u32 tp_status (@20);
 * u16 tp_mac (@24); … }.
 *
 * **Latency.** A block that is not full is handed over only when it
 * retires: `retire_blk_tov` is 1 ms here, so a lone frame (a ping) may wait
 * up to ~1 ms more than with `recvfrom`. The ring pays off under load.
 *
 * @module
 */
import type { DriverPort } from "../../stack/driver.ts";
import { POLLERR, POLLHUP, POLLIN, POLLNVAL } from "../tun/_libc.ts";
import type { LibcSymbols } from "../tun/_libc.ts";
import type { TunIo } from "../tun/io.ts";
import {
  MAP_SHARED,
  PACKET_RX_RING,
  PACKET_VERSION,
  type PacketLibc,
  PROT_READ,
  PROT_WRITE,
  SOL_PACKET,
  TPACKET_V3,
} from "./_libc.ts";

/** Bytes per ring block (a power of two, a multiple of the page size). */
export const RING_BLOCK_SIZE = 1 << 20;
/** Blocks in the ring (16 MiB in all). */
export const RING_BLOCKS = 16;
/** Frame slot size the kernel uses to count frames (V3 packs frames tighter). */
const RING_FRAME_SIZE = 2048;
/** ms after which a partly filled block is handed over anyway. */
const RETIRE_TIMEOUT_MS = 1;
/** Blocks processed before polling (and yielding) again. */
const BLOCKS_PER_BATCH = 4;
const TP_STATUS_USER = 1;
const TP_STATUS_COPY = 2;
const MAX_POLL_FAILURES = 100;

/** A mapped ring. */
export interface Ring {
  /** The whole mapping. */
  readonly bytes: Uint8Array;
  /** Over `bytes`, little-endian reads. */
  readonly dv: DataView;
  /** The mapping's address, for `munmap`. */
  readonly pointer: Deno.PointerObject;
}

/**
 * Switches `fd` to `TPACKET_V3`, creates the receive ring and maps it.
 * Returns an errno on failure (nothing is left mapped).
 */
export function setupRing(p: PacketLibc, fd: number): Ring | number {
  const version = new Uint8Array(new Int32Array([TPACKET_V3]).buffer);
  if (p.sym.setsockopt(fd, SOL_PACKET, PACKET_VERSION, version, 4) < 0) return p.libc.errno();
  // struct tpacket_req3 { block_size, block_nr, frame_size, frame_nr, retire_blk_tov, sizeof_priv, feature_req_word }
  const req = new Uint32Array([
    RING_BLOCK_SIZE,
    RING_BLOCKS,
    RING_FRAME_SIZE,
    (RING_BLOCK_SIZE / RING_FRAME_SIZE) * RING_BLOCKS,
    RETIRE_TIMEOUT_MS,
    0,
    0,
  ]);
  const reqBytes = new Uint8Array(req.buffer);
  if (p.sym.setsockopt(fd, SOL_PACKET, PACKET_RX_RING, reqBytes, reqBytes.length) < 0) {
    return p.libc.errno();
  }
  const size = RING_BLOCK_SIZE * RING_BLOCKS;
  const ptr = p.sym.mmap(null, BigInt(size), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0n);
  if (ptr === null || Deno.UnsafePointer.value(ptr) === 0xffffffffffffffffn) return p.libc.errno();
  const buf = Deno.UnsafePointerView.getArrayBuffer(ptr, size);
  return { bytes: new Uint8Array(buf), dv: new DataView(buf), pointer: ptr };
}

/** Unmaps `ring`. */
export function releaseRing(p: PacketLibc, ring: Ring): void {
  p.sym.munmap(ring.pointer, BigInt(ring.bytes.length));
}

/**
 * The receive loop over the ring for `io`'s descriptor: counts into
 * `io.stats`, stops when `io.closing` (its `stop()` wakes the `poll()`
 * through `wakeFd`), sets `io.error` when the descriptor fails. Resolves
 * when it has ended (never rejects).
 */
export async function runRing(
  io: TunIo,
  sym: LibcSymbols,
  ring: Ring,
  wakeFd: number,
  port: DriverPort,
  options: { frameMax: number; pollTimeout: number },
): Promise<void> {
  const pollfds = new Uint8Array(16);
  const pv = new DataView(pollfds.buffer);
  pv.setInt32(0, io.fd, true);
  pv.setInt16(4, POLLIN, true);
  pv.setInt32(8, wakeFd, true);
  pv.setInt16(12, POLLIN, true);
  const state = { block: 0 };
  let failures = 0;
  while (!io.closing) {
    port.beginBatch?.();
    let got: number;
    try {
      got = drainBlocks(io, ring, state, port, options.frameMax);
    } finally {
      port.endBatch?.();
    }
    if (got > 0) {
      io.stats.rxBatches++;
      const cb = io.onBatch;
      if (cb !== null) {
        try {
          cb();
        } catch {
          io.stats.callbackErrors++;
        }
      }
      if (io.closing) break;
    }
    // A block already waiting: go on at once (poll would return at once too).
    if ((ring.dv.getUint32(state.block * RING_BLOCK_SIZE + 8, true) & TP_STATUS_USER) !== 0) {
      await Promise.resolve();
      continue;
    }
    io.stats.polls++;
    const n = await sym.poll(pollfds, 2, options.pollTimeout);
    if (n < 0) {
      if (++failures >= MAX_POLL_FAILURES) {
        io.error = new Error(`poll() on the packet socket failed ${failures} times in a row`);
        break;
      }
      continue;
    }
    failures = 0;
    const revents = pv.getInt16(6, true);
    if ((revents & (POLLERR | POLLHUP | POLLNVAL)) !== 0 && (revents & POLLIN) === 0) {
      io.error = new Error(`The packet socket failed (poll revents 0x${revents.toString(16)})`);
      break;
    }
  }
}

/** Copies the frames of every block we own (up to a batch) to the stack. Hot path. */
function drainBlocks(
  io: TunIo,
  ring: Ring,
  state: { block: number },
  port: DriverPort,
  frameMax: number,
): number {
  const { dv, bytes } = ring;
  const stats = io.stats;
  const pool = port.pool;
  let n = 0;
  for (let b = 0; b < BLOCKS_PER_BATCH && !io.closing; b++) {
    const base = state.block * RING_BLOCK_SIZE;
    if ((dv.getUint32(base + 8, true) & TP_STATUS_USER) === 0) break;
    const count = dv.getUint32(base + 12, true);
    let off = base + dv.getUint32(base + 16, true);
    for (let i = 0; i < count; i++) {
      const snaplen = dv.getUint32(off + 12, true);
      const status = dv.getUint32(off + 20, true);
      const mac = off + dv.getUint16(off + 24, true);
      const pkt = pool.alloc(frameMax);
      const room = pkt.buf.length - pkt.start;
      if ((status & TP_STATUS_COPY) !== 0 || snaplen > room) {
        stats.rxTruncated++;
        pkt.release();
      } else {
        pkt.buf.set(bytes.subarray(mac, mac + snaplen), pkt.start); // copy: the block goes back
        pkt.end = pkt.start + snaplen;
        stats.rxPackets++;
        stats.rxBytes += snaplen;
        n++;
        port.receive(pkt);
      }
      off += dv.getUint32(off, true); // tp_next_offset
    }
    dv.setUint32(base + 8, 0, true); // TP_STATUS_KERNEL: the block is the kernel's again
    state.block = (state.block + 1) % RING_BLOCKS;
  }
  return n;
}
