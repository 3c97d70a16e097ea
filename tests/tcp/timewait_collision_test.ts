/**
 * Review of the TIME-WAIT table's kept tuple hashes (`timewait_table.ts`,
 * session 12): rows keep their 30-bit tuple hash, growth and removal
 * rechain by it, and a lookup compares it before the tuple. Tuples with
 * the same 30-bit hash (made by inverting `tupleHash`, which is a
 * bijection of the 32-bit port word before its top two bits are cut) are
 * different connections all the same: each record must answer its own
 * probes with its own sequence numbers, across row growth, after its
 * chain partners are revived and re-settled, and end on time.
 */
import assert from "node:assert/strict";
import { tupleHash } from "../../stack/protocols/tcp/table.ts";
import { ipKeyHash } from "../../stack/wire/ip_address.ts";
import { ms } from "../_harness.ts";
import { one, Peer, show } from "./_tcp.ts";

const STACK = 0x0a000001; // 10.0.0.1, the Peer's stack
const PEER = 0x0a000002;
const MSL2 = ms(60_000);

/** The inverse of odd `c` modulo 2^32 (Newton's iteration). */
function inverse(c: number): number {
  let x = c;
  for (let i = 0; i < 5; i++) x = Math.imul(x, 2 - Math.imul(c, x));
  return x;
}

/** The inverse of `y = x ^ (x >>> s)`. */
function unshift(y: number, s: number): number {
  let x = y;
  for (let i = 0; i < 32; i += s) x = y ^ (x >>> s);
  return x >>> 0;
}

/**
 * The (stack port, peer port) pairs whose tuples to and from the fixed
 * addresses hash as `(lp, rp)`'s: the three 32-bit values differing from
 * its mix only in the two top bits, taken back through the mix. Checked
 * against `tupleHash` itself (a changed mix fails here, not later).
 */
function partners(lp: number, rp: number): [number, number][] {
  const target = tupleHash(STACK, lp, PEER, rp);
  const out: [number, number][] = [];
  // The mix before its mask, recomputed as table.ts does.
  let h = Math.imul(ipKeyHash(PEER) ^ ((rp << 16) | lp), 0x9e3779b1);
  h ^= h >>> 15;
  h = Math.imul(h ^ ipKeyHash(STACK), 0x85ebca6b);
  const full = (h ^ (h >>> 13)) >>> 0;
  for (const top of [1, 2, 3]) {
    const other = (full ^ (top << 30)) >>> 0;
    let x = unshift(other, 13);
    x = Math.imul(x, inverse(0x85ebca6b)) ^ ipKeyHash(STACK);
    x = unshift(x >>> 0, 15);
    const word = (Math.imul(x, inverse(0x9e3779b1)) ^ ipKeyHash(PEER)) >>> 0;
    const p = [word & 0xffff, word >>> 16] as [number, number];
    if (p[0] === 0 || p[1] === 0) continue;
    assert.equal(
      tupleHash(STACK, p[0], PEER, p[1]),
      target,
      "tupleHash changed: update partners()",
    );
    out.push(p);
  }
  return out;
}

interface Conn {
  readonly lp: number;
  readonly rp: number;
  /** The stack's sequence number after its FIN, the peer's after its FIN. */
  readonly sndFin: number;
  readonly peerFin: number;
}

/** The peer connects (lp, rp); the stack's user closes first; the peer's FIN ends in TIME-WAIT. */
async function openAndClose(peer: Peer, lp: number, rp: number, iss: number): Promise<Conn> {
  const listener = peer.stack.listen({ port: lp });
  const synAck = one(
    peer.send({ srcPort: rp, dstPort: lp, seq: iss, flags: "S", options: { mss: 1460 } }),
    { flags: "S.", ack: iss + 1 },
  );
  const snd = (synAck.seq + 1) >>> 0;
  const acked = peer.send({ srcPort: rp, dstPort: lp, seq: iss + 1, ack: snd, flags: "." });
  assert.deepEqual(acked, [], show(acked));
  const conn = await listener.accept();
  listener.close();
  conn.close();
  one(peer.take(), { flags: "F.", seq: snd });
  const out = peer.send({ srcPort: rp, dstPort: lp, seq: iss + 1, ack: snd + 1, flags: "F." });
  one(out, { flags: ".", seq: snd + 1, ack: iss + 2 });
  return { lp, rp, sndFin: (snd + 1) >>> 0, peerFin: iss + 2 };
}

/** A retransmitted FIN for `c`: its record must answer with its own ports and numbers. */
function probe(peer: Peer, c: Conn, label: string): void {
  const out = peer.send({
    srcPort: c.rp,
    dstPort: c.lp,
    seq: c.peerFin - 1,
    ack: c.sndFin,
    flags: "F.",
  });
  assert.equal(out.length, 1, `${label}: one answer to ${c.lp}/${c.rp}: ${show(out)}`);
  const a = out[0]!;
  assert.deepEqual(
    [a.srcPort, a.dstPort, a.flags, a.seq, a.ack],
    [c.lp, c.rp, ".", c.sndFin, c.peerFin],
    `${label}: ${show(out)}`,
  );
}

Deno.test("tcp TIME-WAIT records of tuples with the same 30-bit hash each answer their own probes, across growth, revival and expiry", async () => {
  const peer = new Peer({ seed: 9 });
  const base: [number, number] = [80, 40000];
  const same = [base, ...partners(...base)];
  assert.ok(same.length >= 3, `colliding tuples: ${JSON.stringify(same)}`);
  const conns: Conn[] = [];
  let iss = 1000;
  // The colliding ones first (all in one chain of the 16 first rows), then
  // 30 more: the rows double twice with the colliding records in them.
  for (const [lp, rp] of same) conns.push(await openAndClose(peer, lp, rp, iss += 100_000));
  for (let i = 0; i < 30; i++) conns.push(await openAndClose(peer, 80, 41000 + i, iss += 100_000));
  const tw = peer.stack.sockets().filter((s) => s.state === "TIME-WAIT");
  assert.equal(tw.length, conns.length);
  assert.deepEqual(
    tw.map((s) => `${s.local} ${s.remote}`).sort(),
    conns.map((c) => `10.0.0.1:${c.lp} 10.0.0.2:${c.rp}`).sort(),
  );
  // Every record answers as itself, the colliding ones in both orders
  // (each probe revives its record and compacts it again: chain removal
  // and re-insertion with the partners in place).
  for (const c of conns) probe(peer, c, "after growth");
  for (const c of [...conns.slice(0, same.length)].reverse()) probe(peer, c, "reversed");
  // A tuple with the same hash but no record is not one of them: a SYN-less
  // ACK to it gets a reset, not a partner's ACK.
  const ghost = partners(80, 41000)[0]!;
  const rst = peer.send({ srcPort: ghost[1], dstPort: ghost[0], seq: 1, ack: 1, flags: "." });
  assert.ok(!same.some(([lp, rp]) => lp === ghost[0] && rp === ghost[1]));
  one(rst, { flags: "R" });
  // 2×MSL after the last probe (the probes restarted it) every record ends.
  peer.wait(MSL2 + ms(10));
  assert.equal(peer.stack.sockets().filter((s) => s.state === "TIME-WAIT").length, 0);
  peer.finish();
});

Deno.test("tcp TIME-WAIT records with the same 30-bit hash survive the table shrinking around them (moved rows keep their hash)", async () => {
  const peer = new Peer({ seed: 10 });
  let iss = 1000;
  const early: Conn[] = [];
  // 40 records (rows 16 → 64) that end first…
  for (let i = 0; i < 40; i++) early.push(await openAndClose(peer, 80, 42000 + i, iss += 100_000));
  peer.wait(ms(20_000));
  // …then the colliding ones, 20 s later.
  const base: [number, number] = [80, 40000];
  const same: Conn[] = [];
  for (const [lp, rp] of [base, ...partners(...base)]) {
    same.push(await openAndClose(peer, lp, rp, iss += 100_000));
  }
  // The early records end at 60 s; 5 s of few records later the rows shrink.
  peer.wait(MSL2 - ms(20_000) + ms(6_000));
  const tw = peer.stack.sockets().filter((s) => s.state === "TIME-WAIT");
  assert.deepEqual(
    tw.map((s) => s.remote).sort(),
    same.map((c) => `10.0.0.2:${c.rp}`).sort(),
  );
  for (const c of same) probe(peer, c, "after shrinking");
  for (const c of [...same].reverse()) probe(peer, c, "after shrinking, reversed");
  // A gone record's tuple is no partner's: reset.
  one(peer.send({ srcPort: 42000, dstPort: 80, seq: 1, ack: 1, flags: "." }), { flags: "R" });
  peer.wait(MSL2 + ms(10));
  assert.equal(peer.stack.sockets().filter((s) => s.state === "TIME-WAIT").length, 0);
  peer.finish();
});
