/**
 * A socket its user closed in TIME-WAIT keeps telling the truth when the
 * connection is kept as a compact record (`timewait_table.ts`): through
 * the `tcp.sockets` contract its state is TIME-WAIT for 2×MSL (a probe
 * revives and compacts it again), then CLOSED, as a full endpoint's
 * socket was.
 */
import assert from "node:assert/strict";
import type { ConnectionStateEvent, StreamService, StreamSocket } from "../../mod.ts";
import { Peer } from "./_tcp.ts";
import { ms, testPlugin } from "../_harness.ts";

const MSL2 = ms(60_000);

/**
 * A stack (Peer) with a listener through `tcp.sockets`, a connection the
 * peer opened, accepted and closed by the user, and the peer's FIN: the
 * stack is in TIME-WAIT. `events` gets every connection-state event.
 */
function closedInTimeWait(events: string[] = []) {
  const recorder = testPlugin({ name: "recorder" }, () => ({
    onEvent(ev) {
      if (ev.type !== "connection-state") return;
      const e = ev as ConnectionStateEvent;
      events.push(`${e.remote}: ${e.from} -> ${e.to}`);
    },
  }));
  const peer = new Peer({ seed: 4, extraPlugins: [recorder] });
  const svc = peer.stack.service<StreamService>("tcp.sockets")!;
  const ls = svc.listen({ port: 80 });
  assert.ok(typeof ls === "object");
  const synAck = peer.send({ srcPort: 40000, dstPort: 80, seq: 5000, flags: "S" });
  assert.equal(synAck.length, 1);
  const iss = synAck[0]!.seq;
  peer.send({ srcPort: 40000, dstPort: 80, seq: 5001, ack: iss + 1, flags: "." });
  const sock = ls.accept() as StreamSocket;
  assert.ok(sock !== null);
  sock.close();
  assert.equal(peer.take().length, 1, "the FIN");
  const fin = { srcPort: 40000, dstPort: 80, seq: 5001, ack: iss + 2, flags: "F." } as const;
  peer.send(fin, ms(1));
  assert.equal(peer.state(40000), "TIME-WAIT");
  return { peer, ls, sock, fin };
}

Deno.test("tcp socket closed by its user in TIME-WAIT (compact record) shows TIME-WAIT, then CLOSED after 2×MSL", () => {
  const { peer, ls, sock, fin } = closedInTimeWait();
  assert.deepEqual([sock.state, sock.closed, sock.info!().state], [
    "TIME-WAIT",
    false,
    "TIME-WAIT",
  ]);
  assert.equal(peer.send(fin).length, 1, "a retransmitted FIN is acknowledged");
  assert.deepEqual([sock.state, sock.closed], ["TIME-WAIT", false]);
  peer.wait(MSL2 + ms(10));
  assert.equal(peer.state(40000), undefined);
  assert.deepEqual([sock.state, sock.closed, sock.connected], ["CLOSED", true, false]);
  assert.equal(sock.info!().state, "CLOSED");
  ls.close();
  peer.finish();
});

Deno.test("tcp keepAlive set on a socket closed in TIME-WAIT (compact record) sends nothing and ends the connection once", () => {
  const events: string[] = [];
  const { peer, ls, sock } = closedInTimeWait(events);
  sock.keepAlive = true;
  assert.deepEqual(peer.wait(MSL2 + ms(10)), [], "nothing sent");
  assert.equal(sock.state, "CLOSED");
  const ends = events.filter((e) => e === "10.0.0.2:40000: TIME-WAIT -> CLOSED");
  assert.equal(ends.length, 1, events.join("\n"));
  ls.close();
  peer.finish();
});
