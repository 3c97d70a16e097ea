/**
 * What frames in flight keep alive (`_wire.ts`): a lane keeps each frame it
 * delays until it is due, and a buffer carved from a slab or arena keeps
 * all of it (up to 1 MiB). Small frames each sent among a slab's worth of
 * other traffic that the pool gives back kept a 1 MiB slab each; now the
 * slabs frames in flight keep stay within twice their buffers and 8 MiB
 * (`IN_FLIGHT_SLACK_BYTES`), past which a frame travels in a store of its
 * own.
 */
import assert from "node:assert/strict";
import { LINKTYPE_RAW } from "../../stack/driver.ts";
import type { PacketBuffer } from "../../stack/packet.ts";
import { PacketPool, pooledBufferSize } from "../../stack/packet_pool.ts";
import { followAllocations, pinnedBytes } from "../../tests/_pool_pinning.ts";
import { VirtualNetwork } from "./network.ts";
import { IN_FLIGHT_SLACK_BYTES, inFlightSlabBytes } from "./_wire.ts";

/**
 * `frames` frames of `size` bytes sent on a link of delay 1 s and MTU
 * `mtu`, each after `others` buffers of other traffic taken from and given
 * back to the sender's pool; checks what they keep alive while in flight,
 * and that they arrive intact.
 */
function delayedRun(size: number, mtu: number, others: number, frames: number): void {
  const net = new VirtualNetwork({ seed: 1 });
  const link = net.link({ linkType: LINKTYPE_RAW, mtu, faults: { delay: 1_000_000 } });
  const pool = new PacketPool({ maxFreeSmall: 64, maxFreeMedium: 8 });
  const got: number[] = [];
  link.a.attach({ pool, ifindex: 1, now: () => net.now(), receive: (p) => p.release() });
  link.b.attach({
    pool: net.pool,
    ifindex: 2,
    now: () => net.now(),
    receive(p: PacketBuffer) {
      assert.equal(p.length, size);
      assert.ok(p.data.every((b) => b === p.data[0]), "the frame arrived intact");
      got.push(p.data[0]!);
      p.release();
    },
  });
  // The sender's pool, and the network's (copies in stores of their own).
  const follows = [followAllocations(pool), followAllocations(net.pool)];
  for (let i = 0; i < frames; i++) {
    const burst = Array.from({ length: others }, () => pool.alloc(size));
    const frame = pool.alloc(size);
    frame.data.fill(i + 1);
    link.a.transmit(frame);
    for (const p of burst) p.release();
  }
  for (const f of follows) f.stop();
  const inFlight = follows.flatMap((f) => f.handedOut).filter((p) => !p.released);
  assert.equal(inFlight.length, frames, "the frames in flight are all that is out of the pools");
  const buffers = frames * pooledBufferSize(size);
  const pinned = pinnedBytes(inFlight);
  assert.ok(
    pinned <= 2 * buffers + IN_FLIGHT_SLACK_BYTES,
    `${frames} frames in flight (${buffers} bytes of buffers) keep ${pinned} bytes alive`,
  );
  // The account is what the carved ones keep (the rest are their own stores).
  const carved = inFlight.filter((p) => p.buf.buffer.byteLength !== p.buf.byteLength);
  assert.ok(carved.length > 0 && carved.length < frames, `${carved.length} carved`);
  assert.equal(inFlightSlabBytes(), pinnedBytes(carved));
  net.runFor(1_000_000);
  assert.deepEqual(got, Array.from({ length: frames }, (_, i) => i + 1));
  assert.equal(pool.outstanding, 0);
  assert.equal(net.pool.outstanding, 0);
  assert.equal(inFlightSlabBytes(), 0, "every frame's count given back");
  net.close();
}

Deno.test("loopback: small delayed frames each among a slab of other traffic keep alive at most twice their buffers and 8 MiB", () => {
  // Before: 33,554,432 bytes alive, against 65,536 of buffers.
  delayedRun(60, 1500, 600, 32);
});

Deno.test("loopback: jumbo delayed frames each among an arena of other traffic keep alive at most twice their buffers and 8 MiB", () => {
  // Before: 33,554,432 bytes alive, against 524,288 of buffers (arenas of 64 medium buffers).
  delayedRun(8000, 9000, 80, 32);
});
