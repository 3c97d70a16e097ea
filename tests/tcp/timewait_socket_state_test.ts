/**
 * A socket its user closed in TIME-WAIT keeps telling the truth when the
 * connection is kept as a compact record (`timewait_table.ts`): through
 * the `tcp.sockets` contract its state is TIME-WAIT for 2×MSL (a probe
 * revives and compacts it again), then CLOSED, as a full endpoint's
 * socket was.
 */
import assert from "node:assert/strict";
import type { StreamService, StreamSocket } from "../../mod.ts";
import { Peer } from "./_tcp.ts";
import { ms } from "../_harness.ts";

const MSL2 = ms(60_000);

Deno.test("tcp socket closed by its user in TIME-WAIT (compact record) shows TIME-WAIT, then CLOSED after 2×MSL", () => {
  const peer = new Peer({ seed: 4 });
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
