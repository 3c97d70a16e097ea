/**
 * PacketBuffer's references (stack/packet.ts, session 12's cc5de63) against
 * a model, seeded: an owner's release, send-queue shares (share, unshare,
 * reclaim by a sharer), one receive-queue hold at a time (hold,
 * releaseHeld), in every order, over buffers of each size class from one
 * pool that fails on a double recycle. A buffer must go back to its pool
 * exactly when its last reference goes, never before (a use after release
 * is silent corruption) and never twice (two owners of one buffer).
 */
import assert from "node:assert/strict";
import type { PacketBuffer } from "../../stack/packet.ts";
import { PacketPool } from "../../stack/packet_pool.ts";
import { xorshift32 } from "../_random.ts";

/** What the model knows of one buffer's references. */
interface Refs {
  pkt: PacketBuffer;
  owner: boolean; // the owner has not released it
  shares: number; // send-queue shares (share/unshare)
  held: boolean; // a receive queue holds it
  free: boolean; // back in the pool
}

Deno.test("review13 PacketBuffer model: owner, shares and a hold in any order recycle a buffer once, when the last goes", () => {
  const SIZES = [100, 1448, 9000, 60_000]; // small, small, medium (never held), large
  let recycled = 0, reclaimed = 0, heldSeen = 0;
  for (let seed = 1; seed <= 40; seed++) {
    const rnd = xorshift32(seed);
    const below = (n: number) => rnd() % n;
    const pool = new PacketPool({ maxFreeSmall: 16, maxFreeLarge: 8 }); // 8 and 4 holds
    const recycle = pool.recycle.bind(pool);
    const free = new Set<PacketBuffer>();
    pool.recycle = (p: PacketBuffer) => {
      assert.ok(!free.has(p), `seed ${seed}: a buffer recycled twice`);
      free.add(p);
      recycled++;
      recycle(p);
    };
    const live: Refs[] = [];
    for (let step = 0; step < 3000; step++) {
      const op = below(9);
      if (op === 0 || live.length === 0) {
        const pkt = pool.alloc(SIZES[below(SIZES.length)]!);
        free.delete(pkt);
        assert.ok(!live.some((r) => r.pkt === pkt), "a buffer handed out while still referenced");
        live.push({ pkt, owner: true, shares: 0, held: false, free: false });
        continue;
      }
      const k = below(live.length);
      const r = live[k]!;
      const p = r.pkt;
      switch (op) {
        case 1: // the owner (a driver, the dispatcher) lets go
          if (r.owner) p.release(), r.owner = false;
          else p.release(); // a second release by the same owner: a no-op
          break;
        case 2: // a send queue keeps it (only the owner hands it out)
          if (r.owner) p.share(), r.shares++;
          break;
        case 3: // a send queue drops its share (acknowledged)
          if (r.shares > 0) p.unshare(), r.shares--;
          break;
        case 4: { // a receive queue holds it (only while the dispatcher owns it)
          if (!r.owner) break;
          const before = pool.held;
          const ok = p.hold();
          if (r.held) assert.equal(ok, false, "one holder at a time");
          else if (ok) r.held = true, heldSeen++;
          else assert.ok(p.buf.length === 16384 || before >= 4, "refused only when out of holds");
          break;
        }
        case 5: // the receive queue is done
          if (r.held) p.releaseHeld(), r.held = false;
          break;
        case 6: { // a sharer wants to write it again (a retransmission)
          if (r.shares === 0) break;
          const alone = !r.owner && r.shares === 1 && !r.held;
          assert.equal(p.reclaim(), alone, `seed ${seed} step ${step}: reclaim`);
          if (alone) r.owner = true, r.shares = 0, reclaimed++;
          break;
        }
        default: // nothing this step
      }
      const gone = !r.owner && r.shares === 0 && !r.held;
      assert.equal(
        free.has(p),
        gone,
        `seed ${seed} step ${step}: recycled ${!gone ? "early" : "late"}`,
      );
      assert.equal(p.shared, r.shares > 0 || r.held);
      if (gone) live.splice(k, 1);
      assert.equal(pool.outstanding, live.length);
      assert.equal(pool.held, live.filter((x) => x.held).length);
    }
  }
  assert.ok(
    recycled > 5000 && reclaimed > 500 && heldSeen > 2000,
    `${recycled} ${reclaimed} ${heldSeen}`,
  );
});
