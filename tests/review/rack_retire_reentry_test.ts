/**
 * A RACK record retired while its own code is still running (review13).
 * Since 5c45656 a connection entering TIME-WAIT resets its record and puts
 * it on a process-wide spare list for the next connection. To one of the
 * stack's own addresses a segment is delivered inside the sender's call,
 * so the answer to a loss probe (RFC 8985 §7.3) can move the prober to
 * TIME-WAIT before `sendProbe` returns: here a simultaneous close whose
 * first FIN was lost, the probe resending it, and the peer's ACK taking
 * the prober from CLOSING to TIME-WAIT inside the send. Whatever the probe
 * code writes after the send must not land in the retired record, or the
 * next connection of any stack in the process starts with this one's
 * probe state (TLP active, a stale TLP.end_seq: no probe timeout ever
 * armed).
 */
import assert from "node:assert/strict";
import { ACCEPT, type HookPoint, type PacketBuffer, type ProtocolPlugin } from "../../mod.ts";
import { makeLink, ms } from "../_harness.ts";
import { Rack, RACK_SEGMENTS, rackOf } from "../../stack/protocols/tcp/rack.ts";
import type { TcpEndpoint } from "../../stack/protocols/tcp/endpoint.ts";

const TCP_FIN = 0x01;

/** An output hook dropping the TCP segments `drop` picks (on a raw IP view at `pkt.start`). */
function dropper(
  drop: { pick: ((sport: number, flags: number) => boolean) | null },
): ProtocolPlugin {
  return {
    manifest: {
      name: "dropper",
      version: "1.0.0",
      api: "^1.0.0",
      description: "drops picked TCP segments at output",
      layer: "middlebox",
      binds: [],
      hooks: [{ point: "output" }],
      counters: ["output.picked"],
    },
    setup() {
      return {
        hook(_point: HookPoint, pkt: PacketBuffer) {
          const at = pkt.start;
          const b = pkt.buf;
          if (drop.pick === null || b[at + 9] !== 6) return ACCEPT;
          const tcp = at + ((b[at]! & 0x0f) << 2);
          return drop.pick((b[tcp]! << 8) | b[tcp + 1]!, b[tcp + 13]!) ? "picked" : ACCEPT;
        },
      };
    },
  };
}

/** The public fields of a record as a new connection's would be. */
function fields(r: Rack): Record<string, unknown> {
  return {
    count: r.count,
    overflow: r.overflow,
    xmitTs: r.xmitTs,
    fack: r.fack,
    reorderingSeen: r.reorderingSeen,
    reoWndMult: r.reoWndMult,
    segsSacked: r.segsSacked,
    reoAt: r.reoAt,
    ptoAt: r.ptoAt,
    tlpEndSeq: r.tlpEndSeq,
    tlpActive: r.tlpActive,
    tlpIsRetrans: r.tlpIsRetrans,
    probing: r.probing,
    wasInRecovery: r.wasInRecovery,
    lostCount: r.lostCount,
    probes: r.probes,
  };
}

/** The record the next connection would get (the spare list's top), through rackOf. */
function nextConnectionsRack(): Rack {
  const ep = {
    rack: null,
    sackOk: true,
    rackOff: false,
    rttSamples: 0,
    core: { cfg: { rack: true } },
  } as unknown as TcpEndpoint;
  return rackOf(ep)!;
}

Deno.test("review13 RACK: a loss probe whose answer (inside the send) takes the prober to TIME-WAIT leaves the retired record clean", async () => {
  const drop = { pick: null as ((sport: number, flags: number) => boolean) | null };
  const env = makeLink({ seed: 7, faults: { delay: ms(1) }, extraPlugins: [dropper(drop)] });
  const a = env.a;
  const l = a.listen({ port: 7000 });
  const [c, s] = await env.run(() =>
    Promise.all([a.connect({ hostname: "10.0.0.1", port: 7000 }), l.accept()])
  );
  l.close();
  // Some data each way first: RTT samples, and RACK records on both ends.
  await env.run(async () => {
    await c.write(new Uint8Array(3000).fill(1));
    await s.read(new Uint8Array(3000));
    await s.write(new Uint8Array(10).fill(2));
    await c.read(new Uint8Array(10));
  });
  env.runFor(ms(500));
  const clientPort = c.localAddr.port;
  let dropped = 0;
  drop.pick = (sport, flags) => {
    if (sport !== clientPort || (flags & TCP_FIN) === 0 || dropped > 0) return false;
    dropped++;
    return true;
  };
  const probes0 = a.counters.get("tcp.tlp_probes").value;
  c.close(); // the client's FIN is lost: FIN-WAIT-1
  s.close(); // the server's FIN arrives: the client is in CLOSING, the server in FIN-WAIT-2
  env.runFor(ms(3000)); // the client's probe resends its FIN; the ACK comes back inside the send
  assert.equal(dropped, 1);
  assert.ok(a.counters.get("tcp.tlp_probes").value > probes0, "a loss probe was sent");
  const fresh = fields(new Rack(RACK_SEGMENTS));
  const next = nextConnectionsRack();
  assert.deepEqual(fields(next), fresh, "the next connection's record is a new one's");
  next.retire(); // back where it was
  env.runFor(ms(130_000)); // TIME-WAIT
  env.finish();
});

Deno.test("review13 RACK: a loss probe whose answer (inside the send) closes the prober from LAST-ACK leaves no timer or send behind", async () => {
  const drop = { pick: null as ((sport: number, flags: number) => boolean) | null };
  const env = makeLink({ seed: 8, faults: { delay: ms(1) }, extraPlugins: [dropper(drop)] });
  const a = env.a;
  const l = a.listen({ port: 7000 });
  const [c, s] = await env.run(() =>
    Promise.all([a.connect({ hostname: "10.0.0.1", port: 7000 }), l.accept()])
  );
  l.close();
  await env.run(async () => {
    await c.write(new Uint8Array(3000).fill(1));
    await s.read(new Uint8Array(3000));
  });
  env.runFor(ms(500));
  const clientPort = c.localAddr.port;
  let dropped = 0;
  drop.pick = (sport, flags) => {
    if (sport !== clientPort || (flags & TCP_FIN) === 0 || dropped > 0) return false;
    dropped++;
    return true;
  };
  s.close(); // the server's FIN: the client is in CLOSE-WAIT
  env.runFor(ms(10));
  const probes0 = a.counters.get("tcp.tlp_probes").value;
  c.close(); // the client's FIN is lost: LAST-ACK
  env.runFor(ms(3000)); // the probe resends it; the ACK inside the send closes the client
  assert.equal(dropped, 1);
  assert.ok(a.counters.get("tcp.tlp_probes").value > probes0, "a loss probe was sent");
  assert.equal(a.sockets().filter((x) => x.local.endsWith(`:${clientPort}`)).length, 0);
  const out = a.counters.get("tcp.out_segs").value;
  env.runFor(ms(60_000));
  assert.equal(a.counters.get("tcp.out_segs").value, out, "nothing sent by a closed endpoint");
  assert.equal(a.counters.get("dispatcher.plugin_fault").value, 0);
  const fresh = fields(new Rack(RACK_SEGMENTS));
  const next = nextConnectionsRack();
  assert.deepEqual(fields(next), fresh, "the next connection's record is a new one's");
  next.retire();
  env.runFor(ms(130_000));
  env.finish();
});
