/**
 * Review of the TIME-WAIT table's kept tuple hashes (`timewait_table.ts`,
 * session 12): rows keep their 30-bit tuple hash, growth and removal
 * rechain by it, and a lookup compares it before the tuple. Tuples with
 * the same 30-bit hash are different connections all the same: each
 * record must answer its own probes with its own sequence numbers, across
 * row growth, after its chain partners are revived and re-settled, and end
 * on time. The hash is keyed with the stack's secret (`tupleHashKey`), so
 * the test learns the stack's key (the TCP plugin's first two draws, checked
 * against the ISN of its SYN-ACK) and finds colliding tuples by a birthday
 * search, as an attacker without the key cannot.
 */
import assert from "node:assert/strict";
import { tupleHash, tupleHashKey } from "../../stack/protocols/tcp/table.ts";
import { initialSequenceNumber, KeyedHash } from "../../stack/protocols/tcp/isn.ts";
import { tcpPlugin } from "../../stack/protocols/tcp/mod.ts";
import type { PluginContext, ProtocolPlugin } from "../../stack/manifest.ts";
import type { Rng } from "../../stack/rng.ts";
import { ms } from "../_harness.ts";
import { one, Peer, show } from "./_tcp.ts";

const STACK = 0x0a000001; // 10.0.0.1, the Peer's stack
const PEER = 0x0a000002;
const MSL2 = ms(60_000);

/**
 * The TCP plugin, recording the first two words it draws from its `Rng`:
 * the ISN hash's key (`TcpCore` draws it first), from which the tables'
 * key is derived.
 */
function keyRecordingTcp(words: number[]): ProtocolPlugin {
  const bound = <T extends object>(target: T, p: string | symbol) => {
    const v = Reflect.get(target, p, target);
    return typeof v === "function" ? v.bind(target) : v;
  };
  return {
    manifest: tcpPlugin.manifest,
    setup(ctx: PluginContext) {
      const rng = new Proxy(ctx.rng, {
        get: (t: Rng, p) =>
          p === "nextU32"
            ? () => {
              const w = t.nextU32();
              if (words.length < 2) words.push(w);
              return w;
            }
            : bound(t, p),
      });
      return tcpPlugin.setup(
        new Proxy(ctx, { get: (t, p) => (p === "rng" ? rng : bound(t, p)) }),
      );
    },
  };
}

/** A Peer whose stack's tuple-hash key is known: the ISN of a SYN-ACK checks it. */
function keyedPeer(seed: number): { peer: Peer; key: KeyedHash } {
  const words: number[] = [];
  const peer = new Peer({ seed, extraPlugins: [keyRecordingTcp(words)] });
  assert.equal(words.length, 2, "the TCP plugin drew its ISN key");
  const isnHash = KeyedHash.withKey(words[0]!, words[1]!);
  const listener = peer.stack.listen({ port: 7 });
  const now = peer.host.net.now();
  const synAck = one(peer.send({ srcPort: 999, dstPort: 7, seq: 1, flags: "S" }), { flags: "S." });
  assert.equal(
    synAck.seq,
    initialSequenceNumber(isnHash, STACK, 7, PEER, 999, now),
    "the recorded words are the stack's ISN key",
  );
  assert.deepEqual(peer.send({ srcPort: 999, dstPort: 7, seq: 2, flags: "R" }), []);
  listener.close();
  return { peer, key: tupleHashKey(isnHash) };
}

/**
 * Groups of (stack port, peer port) whose tuples to and from the fixed
 * addresses have one 30-bit hash under `key`: a birthday search over stack
 * ports 80–83 and peer ports 1024–65535 (258,048 tuples: about 15 pairs).
 */
function collisions(key: KeyedHash): [number, number][][] {
  const byHash = new Map<number, number[]>();
  const groups: number[][] = [];
  for (let lp = 80; lp < 84; lp++) {
    for (let rp = 1024; rp < 65536; rp++) {
      const h = tupleHash(key, STACK, lp, PEER, rp);
      const g = byHash.get(h);
      if (g === undefined) byHash.set(h, [(lp << 16) | rp]);
      else {
        g.push((lp << 16) | rp);
        if (g.length === 2) groups.push(g);
      }
    }
  }
  return groups.map((g) => g.map((w) => [w >>> 16, w & 0xffff] as [number, number]));
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
  const { peer, key } = keyedPeer(9);
  const groups = collisions(key);
  assert.ok(groups.length >= 4, `colliding groups: ${JSON.stringify(groups)}`);
  // Three groups' tuples; the fourth group's first tuple is left without a record.
  const same = groups.slice(0, 3).flat();
  const conns: Conn[] = [];
  let iss = 1000;
  // The colliding ones first (in the 16 first rows), then 30 more: the
  // rows double twice with the colliding records in them.
  for (const [lp, rp] of same) conns.push(await openAndClose(peer, lp, rp, iss += 100_000));
  for (let i = 0; i < 30; i++) conns.push(await openAndClose(peer, 80, 500 + i, iss += 100_000));
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
  // A tuple with a record's hash but no record is not that record: a
  // SYN-less ACK to it gets a reset, not the partner's ACK.
  const [partner, ghost] = groups[3]!;
  conns.push(await openAndClose(peer, partner![0], partner![1], iss += 100_000));
  const rst = peer.send({ srcPort: ghost![1], dstPort: ghost![0], seq: 1, ack: 1, flags: "." });
  one(rst, { flags: "R" });
  probe(peer, conns.at(-1)!, "the ghost's partner");
  // 2×MSL after the last probe (the probes restarted it) every record ends.
  peer.wait(MSL2 + ms(10));
  assert.equal(peer.stack.sockets().filter((s) => s.state === "TIME-WAIT").length, 0);
  peer.finish();
});

Deno.test("tcp TIME-WAIT records with the same 30-bit hash survive the table shrinking around them (moved rows keep their hash)", async () => {
  const { peer, key } = keyedPeer(10);
  const groups = collisions(key);
  assert.ok(groups.length >= 3, `colliding groups: ${JSON.stringify(groups)}`);
  let iss = 1000;
  const early: Conn[] = [];
  // 40 records (rows 16 → 64) that end first…
  for (let i = 0; i < 40; i++) early.push(await openAndClose(peer, 84, 42000 + i, iss += 100_000));
  peer.wait(ms(20_000));
  // …then the colliding ones, 20 s later.
  const same: Conn[] = [];
  for (const [lp, rp] of groups.slice(0, 3).flat()) {
    same.push(await openAndClose(peer, lp, rp, iss += 100_000));
  }
  // The early records end at 60 s; 5 s of few records later the rows shrink.
  peer.wait(MSL2 - ms(20_000) + ms(6_000));
  const tw = peer.stack.sockets().filter((s) => s.state === "TIME-WAIT");
  assert.deepEqual(
    tw.map((s) => `${s.local} ${s.remote}`).sort(),
    same.map((c) => `10.0.0.1:${c.lp} 10.0.0.2:${c.rp}`).sort(),
  );
  for (const c of same) probe(peer, c, "after shrinking");
  for (const c of [...same].reverse()) probe(peer, c, "after shrinking, reversed");
  // A gone record's tuple is no partner's: reset.
  one(peer.send({ srcPort: 42000, dstPort: 84, seq: 1, ack: 1, flags: "." }), { flags: "R" });
  peer.wait(MSL2 + ms(10));
  assert.equal(peer.stack.sockets().filter((s) => s.state === "TIME-WAIT").length, 0);
  peer.finish();
});

Deno.test("tcp tuple hash: stacks of different seeds hash one tuple differently, so one stack's collisions are not another's", () => {
  const a = keyedPeer(9), again = keyedPeer(9), b = keyedPeer(10);
  const hashes = (key: KeyedHash) =>
    Array.from({ length: 64 }, (_, i) => tupleHash(key, STACK, 80, PEER, 40000 + i));
  // The same seed: the same key (byte-identical runs); another seed: every hash differs.
  assert.deepEqual(hashes(again.key), hashes(a.key));
  const ha = hashes(a.key), hb = hashes(b.key);
  assert.equal(ha.filter((h, i) => h === hb[i]).length, 0);
  // Seed 9's colliding tuples do not collide in seed 10's stack.
  for (const group of collisions(a.key).slice(0, 8)) {
    const [[lp1, rp1], [lp2, rp2]] = group as [[number, number], [number, number]];
    assert.equal(tupleHash(a.key, STACK, lp1, PEER, rp1), tupleHash(a.key, STACK, lp2, PEER, rp2));
    assert.notEqual(
      tupleHash(b.key, STACK, lp1, PEER, rp1),
      tupleHash(b.key, STACK, lp2, PEER, rp2),
    );
  }
  for (const p of [a, again, b]) p.peer.finish();
});
